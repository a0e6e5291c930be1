//! The seed's Code Example 1, against a real D store.
//!
//! The seed's Python builds `LegacyDatabaseD` over a dictionary and looks users up by id.
//! Here the same two users live in a `kv_legacy::LegacyStore` on disk, and
//! `retrieve_user_info_d` prints exactly what the Python prints: the found document in
//! Python's dict notation, or that the id was not found.
//!
//! Run with `cargo run --example legacy_lookup`.

use std::error::Error;

use hdb::kv_legacy::{Document, Durability, LegacyStore, Scalar};

/// The seed's `LegacyDatabaseD`: a key lookup and nothing more.
struct LegacyDatabaseD {
    data_store: LegacyStore,
}

impl LegacyDatabaseD {
    fn get_user_data_by_id(&self, user_id: &str) -> Option<Document> {
        self.data_store.get(user_id)
    }
}

fn retrieve_user_info_d(database_d: &LegacyDatabaseD, user_id: &str) {
    match database_d.get_user_data_by_id(user_id) {
        Some(user_data) => println!("User found: {}", python_dict(&user_data)),
        None => println!("User with ID {user_id} not found."),
    }
}

/// Formats a document the way Python prints a dict: `{'name': 'Alice', ...}`.
fn python_dict(doc: &Document) -> String {
    let fields: Vec<String> = doc
        .iter()
        .map(|(field, value)| {
            let value = match value {
                Scalar::Null => "None".to_string(),
                Scalar::Bool(true) => "True".to_string(),
                Scalar::Bool(false) => "False".to_string(),
                Scalar::Int(i) => i.to_string(),
                Scalar::Float(f) => format!("{f:?}"),
                Scalar::Text(s) => format!("'{s}'"),
                Scalar::Timestamp(t) => format!("'{t}'"),
            };
            format!("'{field}': {value}")
        })
        .collect();
    format!("{{{}}}", fields.join(", "))
}

fn user(name: &str, status: &str) -> Document {
    [
        ("name".to_string(), Scalar::Text(name.to_string())),
        ("status".to_string(), Scalar::Text(status.to_string())),
    ]
    .into_iter()
    .collect()
}

fn main() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let data_store_d = LegacyStore::open(dir.path(), Durability::Full)?;
    data_store_d.put("user_1", user("Alice", "active"))?;
    data_store_d.put("user_2", user("Bob", "inactive"))?;

    let database_d = LegacyDatabaseD {
        data_store: data_store_d,
    };
    retrieve_user_info_d(&database_d, "user_1");
    retrieve_user_info_d(&database_d, "user_3");
    Ok(())
}
