//! The log's filter controls (#filter-status, #filter-method, #filter-path): their values as
//! a `LogFilter`, and a callback when they change.
import { byId } from "../dom";
import type { LogFilter } from "./filter";

export class FilterBar {
  private readonly status = byId<HTMLSelectElement>("filter-status");
  private readonly method = byId<HTMLSelectElement>("filter-method");
  private readonly path = byId<HTMLInputElement>("filter-path");

  constructor(onChange: (filter: LogFilter) => void) {
    const changed = () => onChange(this.value);
    this.status.addEventListener("change", changed);
    this.method.addEventListener("change", changed);
    this.path.addEventListener("input", changed);
  }

  get value(): LogFilter {
    return { status: this.status.value, method: this.method.value, path: this.path.value };
  }
}
