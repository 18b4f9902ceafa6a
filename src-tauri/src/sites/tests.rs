//! Tests of `sites`, on real sockets and real folders.

use super::*;
use crate::site::tests::{fetch, site_dir};

struct Fixture {
    config: tempfile::TempDir,
    data: tempfile::TempDir,
    welcome: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            config: tempfile::tempdir().unwrap(),
            data: tempfile::tempdir().unwrap(),
            welcome: site_dir("welcome page"),
        }
    }

    fn folders(&self) -> Folders {
        Folders {
            store: self.config.path().join("sites.json"),
            logs: Some(self.data.path().join("access-log")),
            certs: Some(self.data.path().join("certs")),
            welcome: self.welcome.path().canonicalize().unwrap(),
        }
    }

    async fn open(&self) -> Sites {
        Sites::open(self.folders()).await
    }

    fn saved(&self) -> StoredSites {
        store::load(&self.folders().store).sites.unwrap()
    }
}

#[tokio::test]
async fn first_launch_serves_the_welcome_site_and_the_next_launch_comes_back_the_same() {
    let fixture = Fixture::new();
    let mut sites = fixture.open().await;
    let state = sites.state();
    assert_eq!(state.sites.len(), 1);
    let welcome = &state.sites[0];
    assert!(welcome.is_welcome && welcome.running);
    assert_eq!(welcome.name, "Welcome");
    let url = welcome.url.clone().unwrap();
    assert!(fetch(&url, "/").await.contains("welcome page"));
    let saved = fixture.saved();
    assert_eq!(saved.sites[0].id, welcome.id);
    assert!(saved.sites[0].running && saved.sites[0].root.is_none());

    let mine = site_dir("my site");
    let added = sites.add(mine.path()).await.unwrap();
    assert!(added.running);
    let (_, stopping) = sites.stop(&added.id).unwrap();
    stopping.finish().await;
    for stopping in sites.shut_down() {
        stopping.finish().await;
    }
    drop(sites);

    let sites = fixture.open().await;
    let state = sites.state();
    assert_eq!(state.sites.len(), 2);
    assert!(state.sites[0].running, "running at quit: started again");
    assert_eq!(
        state.sites[0].url.as_deref(),
        Some(url.as_str()),
        "same port"
    );
    assert!(!state.sites[1].running, "stopped at quit: stays stopped");
    assert_eq!(state.sites[1].id, added.id);
    assert_eq!(state.recents, std::slice::from_ref(&added.root));
    assert!(state.notices.is_empty());
}

#[tokio::test]
async fn a_corrupt_settings_file_is_set_aside_and_shown() {
    let fixture = Fixture::new();
    std::fs::write(fixture.folders().store, "{not json").unwrap();
    let sites = fixture.open().await;
    let state = sites.state();
    assert_eq!(state.sites.len(), 1);
    assert!(state.sites[0].is_welcome && state.sites[0].running);
    assert_eq!(state.notices.len(), 1);
    assert!(
        state.notices[0].contains("sites.json.corrupt-"),
        "{:?}",
        state.notices
    );
    assert_eq!(fixture.saved().sites.len(), 1, "defaults saved afresh");
}

#[tokio::test]
async fn folders_are_added_once_removed_and_remembered() {
    let fixture = Fixture::new();
    let mut sites = fixture.open().await;
    let first = site_dir("first");
    let second = site_dir("second");
    let a = sites.add(first.path()).await.unwrap();
    let b = sites.add(second.path()).await.unwrap();
    assert_ne!(a.id, b.id);
    assert_ne!(a.url, b.url, "each site has its own port");
    assert!(fetch(a.url.as_ref().unwrap(), "/").await.contains("first"));
    assert!(fetch(b.url.as_ref().unwrap(), "/").await.contains("second"));

    let again = sites.add(first.path()).await.unwrap();
    assert_eq!(again.id, a.id, "no duplicate");
    assert_eq!(sites.state().sites.len(), 3);
    assert_eq!(sites.state().recents, [a.root.clone(), b.root.clone()]);

    let err = sites.add(Path::new("/no/such/folder")).await.unwrap_err();
    assert_eq!(err.field(), Some("root"));

    sites.remove(&a.id).unwrap().finish().await;
    assert!(sites.status(&a.id).is_err());
    assert!(matches!(
        sites.start(&a.id).await,
        Err(SiteError::NoSuchSite { .. })
    ));
    let saved = fixture.saved();
    assert_eq!(saved.sites.len(), 2);
    assert_eq!(saved.recents.len(), 2, "recents outlive the site");
}

#[tokio::test]
async fn a_dropped_file_adds_its_folder_and_a_missing_path_becomes_a_notice() {
    let fixture = Fixture::new();
    let mut sites = fixture.open().await;
    let folder = site_dir("dropped");
    let file = folder.path().join("index.html");
    let missing = PathBuf::from("/no/such/thing.html");
    sites.add_dropped(&[file, missing]).await;
    let state = sites.state();
    assert_eq!(state.sites.len(), 2);
    assert_eq!(
        state.sites[1].root,
        folder.path().canonicalize().unwrap().display().to_string()
    );
    assert!(state.sites[1].running);
    assert_eq!(state.notices.len(), 1);
    assert!(state.notices[0].starts_with("/no/such/thing.html was not added: root:"));
}

#[tokio::test]
async fn a_launched_folder_is_served_and_selected_once_and_a_file_becomes_a_notice() {
    let fixture = Fixture::new();
    let mut sites = fixture.open().await;
    assert_eq!(sites.state().opened, None);
    let folder = site_dir("launched");
    let file = folder.path().join("index.html");
    sites.add_launched(&[folder.path().to_path_buf()]).await;
    let state = sites.state();
    assert_eq!(state.sites.len(), 2);
    let site = &state.sites[1];
    assert!(site.running);
    assert!(fetch(site.url.as_ref().unwrap(), "/")
        .await
        .contains("launched"));
    assert_eq!(
        state.opened,
        Some(Opened {
            id: site.id.clone(),
            count: 1
        })
    );

    // The same folder again (through another spelling) selects the site it already is.
    let again = folder
        .path()
        .join("..")
        .join(folder.path().file_name().unwrap());
    sites.add_launched(&[again, file.clone()]).await;
    let state = sites.state();
    assert_eq!(state.sites.len(), 2, "not added twice");
    assert_eq!(state.opened.as_ref().unwrap().id, site.id);
    assert_eq!(state.opened.as_ref().unwrap().count, 2);
    // Unlike a drop, a file is not taken for its folder.
    assert_eq!(state.notices.len(), 1);
    assert!(
        state.notices[0].starts_with(&format!("{} was not added: ", file.display()))
            && state.notices[0].contains("not a folder"),
        "{}",
        state.notices[0]
    );
}

#[tokio::test]
async fn an_export_holds_every_request_and_only_exports_can_be_revealed() {
    let fixture = Fixture::new();
    let mut sites = fixture.open().await;
    let folder = site_dir("page");
    let site = sites.add(folder.path()).await.unwrap();
    let url = site.url.clone().unwrap();
    fetch(&url, "/").await;
    fetch(&url, "/missing").await;
    fetch(&url, "/Missing-Too").await;

    let out = tempfile::tempdir().unwrap();
    let path = out.path().join("requests.csv");
    let ExportSource {
        site_name,
        log,
        dir,
    } = sites.export_source(&site.id).unwrap();
    assert_eq!(site_name, site.name);
    assert_eq!(dir, fixture.data.path().join("access-log").join(&site.id));
    let filter = crate::export::ExportFilter {
        status: Some("4xx".into()),
        path_contains: Some("MISSING".into()),
        method: Some("GET".into()),
    };
    let csv = crate::export::ExportFormat::Csv;
    let exported = crate::export::export_site(log.clone(), dir.clone(), path.clone(), filter, csv)
        .await
        .unwrap();
    assert_eq!(exported.summary.records, 2);
    let whole = crate::export::export_site(
        log.clone(),
        dir.clone(),
        path.clone(),
        Default::default(),
        csv,
    )
    .await
    .unwrap();
    assert_eq!(whole.summary.records, 3);
    let csv = std::fs::read_to_string(&path).unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "private like the log it copies");
    }
    let json = serde_json::to_value(&whole).unwrap();
    assert_eq!(json["path"], path.display().to_string());
    assert_eq!(json["records"], 3);
    assert!(json["sessionId"].is_string());

    for id in [0, 1, u64::MAX] {
        let err = sites.folder_of_export(id).unwrap_err();
        assert!(matches!(err, SiteError::NotExported { .. }), "{err}");
    }
    assert_eq!(sites.exported(path.clone()), 1);
    assert_eq!(sites.folder_of_export(1).unwrap(), out.path());
    assert!(sites.folder_of_export(2).is_err(), "only what was written");
}

#[tokio::test]
async fn lan_qr_needs_a_running_shared_site() {
    let fixture = Fixture::new();
    let mut sites = fixture.open().await;
    let id = sites.state().sites[0].id.clone();
    assert!(matches!(sites.lan_qr(&id), Err(SiteError::LanOff)));
    let shared = sites.set_lan(&id, true).await.unwrap();
    assert!(shared.lan);
    assert!(fixture.saved().sites[0].lan);
    match sites.lan_qr(&id) {
        Ok(qr) => assert_eq!(Some(&qr.text), shared.lan_urls.first()),
        // A machine with no network interface but loopback.
        Err(err) => assert!(matches!(err, SiteError::NoLanAddress), "{err}"),
    }
    let (_, stopping) = sites.stop(&id).unwrap();
    stopping.finish().await;
    assert!(matches!(sites.lan_qr(&id), Err(SiteError::NotRunning)));
}

#[test]
fn ids_are_plain() {
    assert!(is_valid_id("s1") && is_valid_id("welcome") && is_valid_id("a-b_c"));
    assert!(!is_valid_id("") && !is_valid_id("../x") && !is_valid_id("a/b"));
    assert_eq!(base36(0), "0");
    assert_eq!(base36(35), "z");
    assert_eq!(base36(36), "10");
}
