import { describe, expect, it } from "vitest";
import { errorField, errorItem, errorMessage, isCommandError } from "./errors";

describe("command errors", () => {
  it("recognises the contract's shape and kinds", () => {
    expect(isCommandError({ kind: "portInUse", message: "Port 80 is in use.", field: "port" })).toBe(true);
    expect(isCommandError({ kind: "portInUse", message: "Port 80 is in use." })).toBe(true);
    expect(isCommandError({ kind: "somethingElse", message: "x" })).toBe(false);
    expect(isCommandError("plain")).toBe(false);
    expect(isCommandError(null)).toBe(false);
  });

  it("shows the message whatever was thrown", () => {
    expect(errorMessage({ kind: "startFailed", message: "could not start" })).toBe("could not start");
    expect(errorMessage(new Error("boom"))).toBe("boom");
    expect(errorMessage("plain")).toBe("plain");
  });

  it("names the field only when there is one", () => {
    expect(errorField({ kind: "invalidConfig", message: "m", field: "maxConnections" })).toBe("maxConnections");
    expect(errorField({ kind: "invalidConfig", message: "m" })).toBeNull();
    expect(errorField(new Error("x"))).toBeNull();
  });

  it("names the list item and its member when there is one", () => {
    const header = { kind: "invalidConfig", message: "customHeaders[2].name: bad", field: "customHeaders", index: 2, member: "name" };
    expect(errorItem(header)).toEqual({ index: 2, member: "name" });
    expect(errorItem({ kind: "invalidConfig", message: "m", field: "reloadIgnore", index: 0 })).toEqual({ index: 0, member: null });
    expect(errorItem({ kind: "invalidConfig", message: "m", field: "port" })).toBeNull();
    expect(errorItem({ kind: "invalidConfig", message: "m", index: -1 })).toBeNull();
  });

  it("names a refused setting by the label the user sees, and a list item by its row", () => {
    const max = { kind: "invalidConfig", message: "maxConnections: 0 is out of range", field: "maxConnections", reason: "0 is out of range; use 1 to 1,000,000" };
    const labels = (field: string) => (field === "maxConnections" ? "Max connections" : null);
    expect(errorMessage(max, labels)).toBe("Max connections: 0 is out of range; use 1 to 1,000,000");
    // Without a label: the settings that have no control keep a name of their own, others their field.
    expect(errorMessage({ ...max, field: "root", reason: "no such folder" })).toBe("Folder: no such folder");
    expect(errorMessage(max)).toBe("maxConnections: 0 is out of range; use 1 to 1,000,000");
    const header = { kind: "invalidConfig", message: "m", field: "customHeaders", index: 1, member: "name", reason: "not a header name" };
    const members = (member: string) => (member === "name" ? "Header name" : null);
    expect(errorMessage(header, () => "Custom headers", members)).toBe("Custom headers, row 2, Header name: not a header name");
    // An error without a reason (not a refused setting) keeps the app's sentence.
    expect(errorMessage({ kind: "portInUse", message: "Port 80 is in use.", field: "port" }, labels)).toBe("Port 80 is in use.");
  });
});
