//! Tests of `registry`.
use super::*;
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Item {
    name: String,
    n: u32,
}

impl Record for Item {
    const TABLE: &'static str = "items";
    fn key(&self) -> String {
        self.name.clone()
    }
}

fn put(registry: &Registry<Item>, name: &str, n: u32) {
    registry.transact(|_| Ok::<_, StoreError>(((), vec![Change::Put(Item { name: name.to_owned(), n })]))).unwrap();
}

#[test]
fn changes_survive_reopening_twice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("meta.redb");
    {
        let registry = Registry::<Item>::load(Arc::new(MetaStore::open(&path).unwrap())).unwrap();
        put(&registry, "a", 1);
        put(&registry, "b", 2);
        registry.transact(|_| Ok::<_, StoreError>(((), vec![Change::Delete("a".to_owned())]))).unwrap();
    }
    for _ in 0..2 {
        let registry = Registry::<Item>::load(Arc::new(MetaStore::open(&path).unwrap())).unwrap();
        assert_eq!(registry.all(), vec![Item { name: "b".to_owned(), n: 2 }]);
    }
}

#[test]
fn a_refused_transaction_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::<Item>::load(Arc::new(MetaStore::open(&dir.path().join("m")).unwrap())).unwrap();
    put(&registry, "a", 1);
    #[derive(Debug, PartialEq)]
    enum Refusal {
        Quota,
        Store,
    }
    impl From<StoreError> for Refusal {
        fn from(_: StoreError) -> Refusal {
            Refusal::Store
        }
    }
    let refused: Result<(), Refusal> = registry.transact(|items| {
        assert_eq!(items.len(), 1);
        Err(Refusal::Quota)
    });
    assert_eq!(refused, Err(Refusal::Quota));
    assert_eq!(registry.all().len(), 1);
}

#[cfg(unix)]
#[test]
fn the_database_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m");
    MetaStore::open(&path).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
}

#[test]
fn unknown_format_versions_are_reported() {
    let error = decode::<Item>("k", &[9, b'{', b'}']).unwrap_err();
    assert!(error.to_string().contains("unknown record format version 9"), "{error}");
}
