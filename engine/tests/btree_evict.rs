//! Frame eviction under load: with the frame table limited to one frame per shard, every
//! page visit may create, and evict, frames while two threads write and read and flushes
//! run. The tree must still equal its model and pass its integrity check.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use engine::btree::{BTree, Direction, check_file_integrity};
use engine::pager::{Pager, PagerOptions};

#[test]
fn constant_frame_eviction_keeps_the_tree_correct() {
    let dir = tempfile::tempdir().unwrap();
    let pager =
        Arc::new(Pager::create(dir.path().join("e.db"), PagerOptions { page_size: 512 }).unwrap());
    pager.set_frame_cache_target(0);
    let tree = BTree::create(&pager, "t").unwrap();
    let models: Vec<BTreeMap<Vec<u8>, Vec<u8>>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2u8)
            .map(|t| {
                let (tree, pager) = (tree.clone(), pager.clone());
                s.spawn(move || {
                    let mut model = BTreeMap::new();
                    for i in 0..4000u32 {
                        let k = [t, (i * 7 % 1000) as u8, (i * 7 % 1000 / 256) as u8].to_vec();
                        if i % 3 == 2 {
                            assert_eq!(tree.delete(&k).unwrap(), model.remove(&k).is_some());
                        } else {
                            let v = vec![t; (i % 40) as usize];
                            tree.insert(&k, &v).unwrap();
                            model.insert(k.clone(), v);
                        }
                        assert_eq!(tree.get(&k).unwrap().as_ref(), model.get(&k));
                        if i % 500 == 0 {
                            let n = tree
                                .range([t].as_slice()..[t + 1].as_slice(), Direction::Reverse)
                                .count();
                            assert_eq!(n, model.len());
                            pager.flush().unwrap();
                        }
                    }
                    model
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let want: Vec<_> = models.into_iter().flatten().collect();
    let got: Vec<_> = tree.iter().map(|e| e.unwrap()).collect();
    assert!(got == want);
    check_file_integrity(&pager, &[]).unwrap();
}
