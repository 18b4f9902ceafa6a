import { defineConfig } from "vite";

// Built into ui/dist, which src-tauri embeds at compile time (tauri.conf.json frontendDist).
export default defineConfig({
  root: __dirname,
  clearScreen: false,
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2021",
  },
});
