//! Watches the selected site's feed (one watch at a time, as `watch_site` allows) and routes
//! its messages: metrics to the graphs, log batches to the buffer and table, connections to
//! their table. Selecting another site mutes the old watch and clears the views.
import type { FeedWatch } from "../api/streams";
import type { SiteFeed, SiteId } from "../api/types";
import { chartWindow, MetricsTimeline } from "../charts/series";

export interface FeedTargets {
  watch(id: SiteId, onFeed: (message: SiteFeed) => void): Promise<FeedWatch>;
  log(records: SiteFeed & { type: "log" }): void;
  charts(window: ReturnType<typeof chartWindow>): void;
  connections(message: SiteFeed & { type: "connections" }): void;
  /** The views must forget the previous site. */
  reset(): void;
  error(error: unknown): void;
}

export class FeedController {
  private current: SiteId | null = null;
  private watchHandle: FeedWatch | null = null;
  private readonly timeline = new MetricsTimeline();

  constructor(private readonly targets: FeedTargets) {}

  /** Watches `id` (or nothing); a no-op when it is already watched. */
  watch(id: SiteId | null): void {
    if (id === this.current) {
      return;
    }
    this.watchHandle?.stop();
    this.watchHandle = null;
    this.current = id;
    this.timeline.clear();
    this.targets.reset();
    this.targets.charts(chartWindow([], Date.now()));
    if (id === null) {
      return;
    }
    this.targets
      .watch(id, (message) => this.route(message))
      .then((handle) => {
        if (this.current === id) {
          this.watchHandle = handle;
        } else {
          handle.stop();
        }
      })
      .catch((error: unknown) => {
        if (this.current === id) {
          this.current = null; // so a later selection of this site tries again
          this.targets.error(error);
        }
      });
  }

  private route(message: SiteFeed): void {
    switch (message.type) {
      case "metrics":
        this.timeline.apply(message.samples, message.reset);
        this.targets.charts(chartWindow(this.timeline.samples));
        break;
      case "log":
        this.targets.log(message);
        break;
      case "connections":
        this.targets.connections(message);
        break;
    }
  }
}
