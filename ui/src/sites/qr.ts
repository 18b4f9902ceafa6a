//! Draws a `QrCode` (modules computed in Rust) on a canvas: dark modules on white with the
//! four-module quiet zone scanners need, whatever the theme.
import type { QrCode } from "../api/types";

const QUIET = 4;

/** The modules as rows of booleans (true: dark), or null if the code is malformed. */
export function qrMatrix(qr: QrCode): boolean[][] | null {
  const { width, modules } = qr;
  if (!Number.isInteger(width) || width < 1 || modules.length !== width * width || /[^01]/.test(modules)) {
    return null;
  }
  const rows: boolean[][] = [];
  for (let y = 0; y < width; y += 1) {
    const row: boolean[] = [];
    for (let x = 0; x < width; x += 1) {
      row.push(modules.charCodeAt(y * width + x) === 49);
    }
    rows.push(row);
  }
  return rows;
}

/** Draws `qr` at whole pixels per module, at least `cssSize` CSS pixels wide. */
export function drawQr(canvas: HTMLCanvasElement, qr: QrCode, cssSize = 148): boolean {
  const matrix = qrMatrix(qr);
  const ctx = canvas.getContext("2d");
  if (matrix === null || ctx === null) {
    return false;
  }
  const total = qr.width + QUIET * 2;
  const scale = Math.max(1, Math.floor((cssSize * (window.devicePixelRatio || 1)) / total));
  canvas.width = total * scale;
  canvas.height = total * scale;
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = "#000000";
  matrix.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (dark) {
        ctx.fillRect((x + QUIET) * scale, (y + QUIET) * scale, scale, scale);
      }
    }),
  );
  return true;
}

export function clearQr(canvas: HTMLCanvasElement): void {
  canvas.getContext("2d")?.clearRect(0, 0, canvas.width, canvas.height);
}
