//! Tests of `feeds`, on real sockets and real folders.

use super::*;
use crate::site::tests::{fetch, site_dir};
use crate::sites::Folders;

fn record(id: u64) -> AccessRecord {
    serde_json::from_value(serde_json::json!({
        "id": id, "startMs": 1, "peer": "127.0.0.1:5000", "method": "GET",
        "target": format!("/{id}"), "version": "HTTP/1.1", "status": 200,
        "bodyBytes": 1, "completed": true, "ttfbUs": 1, "totalUs": 2,
        "outcome": "completed", "userAgent": null, "referer": null,
        "connection": 1, "generation": 1, "served": "file"
    }))
    .unwrap()
}

fn batch(ids: impl Iterator<Item = u64>, missed: u64) -> LogBatch {
    LogBatch {
        records: ids.map(record).collect(),
        missed,
    }
}

#[test]
fn messages_serialize_as_tagged_camel_case() {
    let json = serde_json::to_value(SiteFeed::Connections {
        connections: Vec::new(),
        admission: None,
    })
    .unwrap();
    assert_eq!(
        json,
        serde_json::json!({"type": "connections", "connections": [], "admission": null})
    );
    let json = serde_json::to_value(SiteFeed::from(batch(1..=1, 2))).unwrap();
    assert_eq!(json["type"], "log");
    assert_eq!(json["skipped"], 2);
    assert_eq!(json["records"][0]["bodyBytes"], 1);
}

#[tokio::test]
async fn a_site_not_started_yet_clears_the_charts_and_streams_once_started() {
    let welcome = site_dir("welcome page");
    let folder = site_dir("page");
    let config = tempfile::tempdir().unwrap();
    let store = config.path().join("sites.json");
    let stored = crate::store::StoredSites {
        version: crate::store::VERSION,
        sites: vec![crate::store::StoredSite {
            id: "s1".into(),
            root: Some(folder.path().to_path_buf()),
            lan: false,
            running: false,
            settings: Default::default(),
            last_port: None,
            last_https_port: None,
        }],
        recents: Vec::new(),
    };
    crate::store::save(&store, &stored).unwrap();
    let sites = Sites::open(Folders {
        store,
        logs: None,
        certs: None,
        welcome: welcome.path().canonicalize().unwrap(),
    })
    .await;
    let sites: SharedSites = Arc::new(tokio::sync::Mutex::new(sites));
    let (sent, mut received) = mpsc::unbounded_channel();
    let task = tokio::spawn(watch(Arc::clone(&sites), "s1".into(), move |message| {
        sent.send(message).is_ok()
    }));
    assert_eq!(
        received.recv().await.unwrap(),
        SiteFeed::Metrics {
            samples: Vec::new(),
            reset: true
        }
    );
    assert_eq!(
        received.recv().await.unwrap(),
        SiteFeed::Connections {
            connections: Vec::new(),
            admission: None
        }
    );
    sites.lock().await.start("s1").await.unwrap();
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), received.recv())
            .await
            .expect("the feed goes on")
            .unwrap();
        if matches!(message, SiteFeed::Metrics { reset: true, .. }) {
            break;
        }
    }
    task.abort();
}

/// A measurement, not a check: the delay from a response's end to its record reaching the
/// window's sink. `cargo test -p wharf-desktop --lib -- --ignored --nocapture log_latency`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; prints timings"]
async fn log_latency_from_response_to_window() {
    let welcome = site_dir("welcome page");
    let folder = site_dir("page");
    let config = tempfile::tempdir().unwrap();
    let sites = Sites::open(Folders {
        store: config.path().join("sites.json"),
        logs: None,
        certs: None,
        welcome: welcome.path().canonicalize().unwrap(),
    })
    .await;
    let sites: SharedSites = Arc::new(tokio::sync::Mutex::new(sites));
    let site = sites.lock().await.add(folder.path()).await.unwrap();
    let url = site.url.clone().unwrap();
    let arrived = Arc::new(Mutex::new(std::collections::HashMap::new()));
    let seen = Arc::clone(&arrived);
    let task = tokio::spawn(watch(Arc::clone(&sites), site.id.clone(), move |message| {
        if let SiteFeed::Log { records, .. } = &message {
            let now = std::time::Instant::now();
            for record in records.iter() {
                lock(&seen).insert(record.target.clone(), now);
            }
        }
        true
    }));
    tokio::time::sleep(Duration::from_millis(600)).await;
    let mut finished = Vec::new();
    for n in 0..60_u64 {
        let path = format!("/r{n}");
        fetch(&url, &path).await;
        finished.push((path, std::time::Instant::now()));
        // Spread over the batching period, so every phase is sampled.
        tokio::time::sleep(Duration::from_millis(17 + (n * 7) % 23)).await;
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    let arrived = lock(&arrived).clone();
    let mut delays: Vec<Duration> = finished
        .iter()
        .map(|(path, at)| arrived[path].saturating_duration_since(*at))
        .collect();
    delays.sort();
    let pick = |q: f64| delays[((delays.len() - 1) as f64 * q) as usize];
    println!(
        "log latency over {} requests: p50 {:?}, p90 {:?}, max {:?}",
        delays.len(),
        pick(0.5),
        pick(0.9),
        delays[delays.len() - 1]
    );
    task.abort();
}

/// This process's CPU time (user + system), from `/proc/self/stat`, in clock ticks.
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// A measurement, not a check: the app's CPU while idle with three running sites and 20
/// idle keep-alive connections each, under the old 500 ms state poll and under the push.
/// `cargo test -p wharf-desktop --lib -- --ignored --nocapture idle_state`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; prints timings"]
async fn idle_state_cost_poll_against_push() {
    let welcome = site_dir("welcome page");
    let config = tempfile::tempdir().unwrap();
    let sites = Sites::open(Folders {
        store: config.path().join("sites.json"),
        logs: None,
        certs: None,
        welcome: welcome.path().canonicalize().unwrap(),
    })
    .await;
    let changes = sites.changes();
    let sites: SharedSites = Arc::new(tokio::sync::Mutex::new(sites));
    let folders: Vec<_> = (0..3).map(|n| site_dir(&format!("site {n}"))).collect();
    let mut idle = Vec::new();
    for folder in &folders {
        let site = sites.lock().await.add(folder.path()).await.unwrap();
        let authority = site
            .url
            .unwrap()
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        for _ in 0..20 {
            idle.push(tokio::net::TcpStream::connect(&authority).await.unwrap());
        }
    }
    let reads = std::time::Instant::now();
    for _ in 0..200 {
        std::hint::black_box(sites.lock().await.state());
    }
    println!("one state read: {:?}", reads.elapsed() / 200);
    let run = |task: tauri::async_runtime::JoinHandle<()>| async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let before = cpu_ticks();
        tokio::time::sleep(Duration::from_secs(10)).await;
        let used = cpu_ticks() - before;
        task.abort();
        used
    };
    let feed = Arc::new(StateFeed::default());
    let (polled_sites, polled_feed) = (Arc::clone(&sites), Arc::clone(&feed));
    let polled = run(tauri::async_runtime::spawn(async move {
        let mut ticks = tokio::time::interval(Duration::from_millis(500));
        loop {
            ticks.tick().await;
            let state = polled_sites.lock().await.state();
            polled_feed.publish_if_changed(state);
        }
    }))
    .await;
    let pushed = run(tauri::async_runtime::spawn(push_state_changes(
        Arc::clone(&sites),
        feed,
        changes,
    )))
    .await;
    println!("CPU over 10 s idle (clock ticks of 10 ms, whole process): 500 ms poll {polled}, push {pushed}");
    let nothing = run(tauri::async_runtime::spawn(async {})).await;
    println!("CPU over 10 s idle with neither: {nothing}");
    drop(idle);
}

#[tokio::test]
async fn a_watch_streams_the_timeline_connections_and_requests_across_a_restart() {
    let welcome = site_dir("welcome page");
    let folder = site_dir("page");
    let config = tempfile::tempdir().unwrap();
    let sites = Sites::open(Folders {
        store: config.path().join("sites.json"),
        logs: None,
        certs: None,
        welcome: welcome.path().canonicalize().unwrap(),
    })
    .await;
    let sites: SharedSites = Arc::new(tokio::sync::Mutex::new(sites));
    let site = sites.lock().await.add(folder.path()).await.unwrap();
    let url = site.url.clone().unwrap();

    let (sent, mut received) = mpsc::unbounded_channel();
    let task = tokio::spawn(watch(Arc::clone(&sites), site.id.clone(), move |message| {
        sent.send(message).is_ok()
    }));
    let first = received.recv().await.unwrap();
    assert!(
        matches!(first, SiteFeed::Metrics { reset: true, .. }),
        "{first:?}"
    );
    assert!(matches!(
        received.recv().await.unwrap(),
        SiteFeed::Connections {
            admission: Some(_),
            ..
        }
    ));

    fetch(&url, "/").await;
    let (_, stopping) = sites.lock().await.stop(&site.id).unwrap();
    stopping.finish().await;
    sites.lock().await.start(&site.id).await.unwrap();
    fetch(&url, "/again").await;

    let mut targets = Vec::new();
    let mut saw_sample = false;
    while targets.len() < 2 || !saw_sample {
        let message = tokio::time::timeout(Duration::from_secs(5), received.recv())
            .await
            .expect("the feed goes on")
            .unwrap();
        match message {
            SiteFeed::Log { records, skipped } => {
                assert_eq!(skipped, 0);
                targets.extend(records.iter().map(|record| record.target.clone()));
            }
            SiteFeed::Connections { .. } => {}
            SiteFeed::Metrics { samples, reset } => {
                assert!(!reset);
                assert_eq!(samples.len(), 1);
                saw_sample = true;
            }
        }
    }
    assert_eq!(targets, ["/", "/again"]);

    // Removing the site ends the watch with an empty connection list.
    sites.lock().await.remove(&site.id).unwrap().finish().await;
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
}
