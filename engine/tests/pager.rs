//! Pager behaviour through its public API: persistence across reopen, the file lock,
//! growth while readers hold pages, checksums, free-list reuse and crash-atomic flush.
#![allow(clippy::unwrap_used)]

use engine::Error;
use engine::pager::{PageId, Pager, PagerOptions, SimStorage};

fn fill(pager: &Pager, id: PageId, byte: u8) {
    let _g = pager.begin_write();
    let mut p = pager.write(id).unwrap();
    p.body_mut().fill(byte);
}

fn alloc(pager: &Pager, byte: u8) -> PageId {
    let _g = pager.begin_write();
    let mut p = pager.allocate().unwrap();
    p.body_mut().fill(byte);
    p.id()
}

#[test]
fn pages_survive_close_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let pager = Pager::create(&path, PagerOptions { page_size: 4096 }).unwrap();
    let ids: Vec<PageId> = (0..50u8).map(|i| alloc(&pager, i)).collect();
    pager.set_root("t", ids[0]).unwrap();
    pager.set_checkpoint_lsn(77);
    pager.close().unwrap();

    let pager = Pager::open(&path).unwrap();
    assert_eq!(pager.page_size(), 4096);
    assert_eq!(pager.root("t"), Some(ids[0]));
    assert_eq!(pager.checkpoint_lsn(), 77);
    for (i, id) in ids.iter().enumerate() {
        let p = pager.read(*id).unwrap();
        assert!(p.body().iter().all(|b| *b == i as u8));
    }
}

#[test]
fn second_open_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let pager = Pager::create(&path, PagerOptions::default()).unwrap();
    let err = Pager::open(&path).unwrap_err();
    assert!(matches!(err, Error::Locked { .. }), "{err:?}");
    drop(pager);
    Pager::open(&path).unwrap();
}

#[test]
fn growth_does_not_invalidate_held_pages() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let pager = Pager::create(&path, PagerOptions { page_size: 4096 }).unwrap();
    let first = alloc(&pager, 0xAB);
    pager.flush().unwrap();
    let held = pager.read(first).unwrap();
    let before = pager.stats().file_len;
    // Enough pages to force at least one growth step (1 MiB = 256 pages).
    for i in 0..600u32 {
        alloc(&pager, i as u8);
    }
    pager.flush().unwrap();
    assert!(
        pager.stats().file_len > before,
        "the file should have grown"
    );
    assert!(held.body().iter().all(|b| *b == 0xAB));
    drop(held);
    assert!(pager.read(first).unwrap().body().iter().all(|b| *b == 0xAB));
}

#[test]
fn a_flipped_byte_is_reported_as_corruption_of_that_page() {
    let sim = SimStorage::new();
    let pager = Pager::create_with(Box::new(sim.clone()), PagerOptions { page_size: 512 }).unwrap();
    let a = alloc(&pager, 1);
    let b = alloc(&pager, 2);
    pager.close().unwrap();
    sim.flip(b.0 * 512 + 100, 0x10);
    let pager = Pager::open_with(Box::new(SimStorage::from_image(sim.live_image()))).unwrap();
    assert!(pager.read(a).unwrap().body().iter().all(|x| *x == 1));
    let err = pager.read(b).unwrap_err();
    assert!(
        matches!(err, Error::Corrupted { page, .. } if page == b.0),
        "{err:?}"
    );
    // Writing a corrupted page is refused too, rather than spreading the damage.
    let _g = pager.begin_write();
    assert!(matches!(pager.write(b), Err(Error::Corrupted { .. })));
}

#[test]
fn out_of_range_page_ids_are_errors() {
    let pager = Pager::create_with(Box::new(SimStorage::new()), PagerOptions::default()).unwrap();
    assert!(pager.read(PageId(0)).is_err());
    assert!(pager.read(PageId(1)).is_err());
    assert!(pager.read(PageId(99)).is_err());
}

#[test]
fn freed_pages_are_reused_and_the_free_list_persists() {
    let sim = SimStorage::new();
    let pager = Pager::create_with(Box::new(sim.clone()), PagerOptions { page_size: 512 }).unwrap();
    let ids: Vec<PageId> = (0..300u32).map(|i| alloc(&pager, i as u8)).collect();
    pager.flush().unwrap();
    {
        let _g = pager.begin_write();
        for id in &ids[..200] {
            pager.free(pager.write(*id).unwrap());
        }
    }
    let count = pager.stats().page_count;
    pager.close().unwrap();

    let pager = Pager::open_with(Box::new(SimStorage::from_image(sim.live_image()))).unwrap();
    assert_eq!(pager.stats().free_pages, 200);
    assert_eq!(pager.free_pages(), ids[..200].to_vec());
    for (i, id) in ids.iter().enumerate().skip(200) {
        assert!(
            pager
                .read(*id)
                .unwrap()
                .body()
                .iter()
                .all(|b| *b == i as u8)
        );
    }
    for _ in 0..200 {
        alloc(&pager, 9);
    }
    assert_eq!(
        pager.stats().page_count,
        count,
        "reuse must not extend the file"
    );
    assert_eq!(pager.stats().free_pages, 0);
    pager.flush().unwrap();
}

#[test]
fn bad_page_sizes_are_rejected() {
    for ps in [0, 100, 511, 1000, 1 << 17] {
        let r = Pager::create_with(Box::new(SimStorage::new()), PagerOptions { page_size: ps });
        assert!(
            matches!(r, Err(Error::InvalidArgument(_))),
            "page size {ps}"
        );
    }
}

/// A crash at the Nth sync of a flush leaves a file that opens to the previous flush
/// (crash before the commit point) or the new one (after it), never a mix.
#[test]
fn crash_at_each_sync_of_a_flush_is_atomic() {
    for crash_at in 1..=5u64 {
        let sim = SimStorage::new();
        let pager =
            Pager::create_with(Box::new(sim.clone()), PagerOptions { page_size: 512 }).unwrap();
        let ids: Vec<PageId> = (0..40u8).map(|i| alloc(&pager, i)).collect();
        pager.set_root("r", ids[0]).unwrap();
        pager.flush().unwrap();
        // Second state: rewrite every page, free some, add some.
        for id in &ids[..30] {
            fill(&pager, *id, 0xEE);
        }
        {
            let _g = pager.begin_write();
            for id in &ids[30..] {
                pager.free(pager.write(*id).unwrap());
            }
        }
        let extra: Vec<PageId> = (0..20).map(|_| alloc(&pager, 0xDD)).collect();
        pager.set_root("r", ids[1]).unwrap();
        sim.crash_at_sync(crash_at);
        let flushed = pager.flush();
        assert_eq!(flushed.is_err(), crash_at <= 4, "crash at sync {crash_at}");
        assert!(
            pager.flush().is_err() || crash_at > 4,
            "a failed pager must refuse flush"
        );
        drop(pager);

        let reopened = Pager::open_with(Box::new(SimStorage::from_image(sim.durable_image())))
            .unwrap_or_else(|e| panic!("crash at sync {crash_at}: {e}"));
        let new_state = crash_at >= 3;
        assert_eq!(
            reopened.root("r"),
            Some(if new_state { ids[1] } else { ids[0] })
        );
        for (i, id) in ids.iter().enumerate() {
            let expect = if new_state && i < 30 { 0xEE } else { i as u8 };
            if new_state && i >= 30 {
                // Freed: some were reused by `extra`.
                continue;
            }
            let p = reopened.read(*id).unwrap();
            assert!(
                p.body().iter().all(|b| *b == expect),
                "crash {crash_at} page {id}"
            );
        }
        if new_state {
            for id in &extra {
                assert!(
                    reopened
                        .read(*id)
                        .unwrap()
                        .body()
                        .iter()
                        .all(|b| *b == 0xDD)
                );
            }
        }
    }
}

#[test]
fn flush_hook_sees_the_max_page_lsn_and_records_the_checkpoint() {
    let sim = SimStorage::new();
    let pager = Pager::create_with(Box::new(sim.clone()), PagerOptions { page_size: 512 }).unwrap();
    let id = {
        let _g = pager.begin_write();
        let mut p = pager.allocate().unwrap();
        p.set_lsn(41);
        p.id()
    };
    // A failing hook (the log could not be made durable) writes nothing and leaves the
    // pager usable.
    let err = pager.flush_with(|_| Err(Error::InvalidArgument("wal down".into())));
    assert!(err.is_err());
    assert_eq!(sim.syncs(), 1, "only create's sync");
    let mut seen = 0;
    pager
        .flush_with(|max_lsn| {
            seen = max_lsn;
            pager.set_checkpoint_lsn(40);
            Ok(())
        })
        .unwrap();
    assert_eq!(seen, 41);
    drop(pager);
    let pager = Pager::open_with(Box::new(SimStorage::from_image(sim.durable_image()))).unwrap();
    assert_eq!(pager.checkpoint_lsn(), 40);
    assert_eq!(pager.read(id).unwrap().lsn(), 41);
}

/// A rotted newest meta makes open fall back to the older copy, which may name a
/// double-write area that a later, unfinished flush has since overwritten. Those images
/// carry another flush's sequence and must be refused, not replayed.
#[test]
fn stale_double_write_images_are_refused() {
    let sim = SimStorage::new();
    let pager = Pager::create_with(Box::new(sim.clone()), PagerOptions { page_size: 512 }).unwrap();
    let ids: Vec<PageId> = (0..10u8).map(|i| alloc(&pager, i)).collect();
    pager.flush().unwrap();
    // This flush rewrites existing pages, so its meta names a double-write area...
    for id in &ids {
        fill(&pager, *id, 0x66);
    }
    pager.flush().unwrap();
    // ...which the next flush overwrites before crashing ahead of its commit point.
    for id in &ids {
        fill(&pager, *id, 0x77);
    }
    sim.crash_at_sync(2);
    assert!(pager.flush().is_err());
    drop(pager);
    let image = sim.durable_image();
    // Which copy is newest? Rot that one.
    let seq = |slot: usize| {
        u64::from_le_bytes(image[slot * 512 + 40..slot * 512 + 48].try_into().unwrap())
    };
    let newest = if seq(0) > seq(1) { 0 } else { 1 };
    let rotted = SimStorage::from_image(image);
    rotted.flip(newest as u64 * 512 + 200, 0x01);
    let err = Pager::open_with(Box::new(rotted)).unwrap_err();
    assert!(matches!(err, Error::Corrupted { .. }), "{err:?}");
}
