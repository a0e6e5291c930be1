//! Join order by cost (`sql_frontend/src/optimize/join_search.rs`), end to end through
//! `hdb::Database`:
//!
//! - a golden EXPLAIN (COSTS OFF) of a join among five analysed tables, which must not
//!   flip, planned alike whichever order the FROM list names the tables in;
//! - the answer is the same for every order of the FROM list and equals a count made
//!   in Rust from the generated data.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hdb::{Database, Session};

fn lines(session: &mut Session, sql: &str) -> Vec<String> {
    session
        .execute(sql)
        .unwrap()
        .rows()
        .iter()
        .map(|row| row.values().iter().map(ToString::to_string).collect())
        .collect()
}

fn insert(session: &mut Session, table: &str, rows: impl Iterator<Item = String>) {
    let rows: Vec<String> = rows.collect();
    for chunk in rows.chunks(500) {
        session
            .execute(&format!("INSERT INTO {table} VALUES {}", chunk.join(", ")))
            .unwrap();
    }
}

const REGIONS: usize = 20;
const CUSTOMERS: usize = 2000;
const ORDERS: usize = 6000;
const PRODUCTS: usize = 500;
const ITEMS: usize = 12_000;

/// A shop: regions <- customers <- orders <- items -> products, every foreign key
/// spread evenly; an index on items (order_id). Analysed.
fn shop(session: &mut Session) {
    session
        .execute(
            "CREATE TABLE regions (id INTEGER PRIMARY KEY, name TEXT);
             CREATE TABLE customers (id INTEGER PRIMARY KEY, region INTEGER, name TEXT);
             CREATE TABLE orders (id INTEGER PRIMARY KEY, customer INTEGER, total INTEGER);
             CREATE TABLE products (id INTEGER PRIMARY KEY, category TEXT);
             CREATE TABLE items (id INTEGER PRIMARY KEY, order_id INTEGER, product INTEGER, qty INTEGER);",
        )
        .unwrap();
    insert(
        session,
        "regions",
        (0..REGIONS).map(|i| format!("({i}, 'r{i}')")),
    );
    insert(
        session,
        "customers",
        (0..CUSTOMERS).map(|i| format!("({i}, {}, 'c{i}')", i % REGIONS)),
    );
    insert(
        session,
        "orders",
        (0..ORDERS).map(|i| format!("({i}, {}, {})", (i * 7) % CUSTOMERS, i % 100)),
    );
    insert(
        session,
        "products",
        (0..PRODUCTS).map(|i| format!("({i}, 'k{}')", i % 50)),
    );
    insert(
        session,
        "items",
        (0..ITEMS).map(|i| {
            format!(
                "({i}, {}, {}, {})",
                (i * 13) % ORDERS,
                (i * 3) % PRODUCTS,
                i % 5
            )
        }),
    );
    session
        .execute("CREATE INDEX items_order ON items (order_id)")
        .unwrap();
    session.execute("ANALYZE").unwrap();
}

/// Items of orders by customers of region 3 for products of category k7, by Rust.
fn expected() -> usize {
    (0..ITEMS)
        .filter(|i| {
            let order = (i * 13) % ORDERS;
            let product = (i * 3) % PRODUCTS;
            let customer = (order * 7) % CUSTOMERS;
            customer % REGIONS == 3 && product % 50 == 7
        })
        .count()
}

/// The five relations and their join conditions, in a given order of the FROM list.
fn query(order: &[usize]) -> String {
    let tables = [
        "items i",
        "products p",
        "orders o",
        "customers c",
        "regions r",
    ];
    let from: Vec<&str> = order.iter().map(|t| tables[*t]).collect();
    format!(
        "SELECT count(*) FROM {} WHERE p.id = i.product AND o.id = i.order_id \
         AND c.id = o.customer AND r.id = c.region AND r.name = 'r3' AND p.category = 'k7'",
        from.join(", ")
    )
}

/// The plan, chosen by dynamic programming from the estimates: the products of the one
/// category (a fiftieth, ten rows) are hashed and probed by a scan of the 12,000 items
/// (a sequential row costs a twenty-eighth of a primary-key lookup), leaving about 240;
/// each finds its order and then its customer by primary key, and the one region
/// (filtered) is hashed last. Before the scan and lookup costs were measured again
/// (a row of a sequential scan at 0.5 us against 2.5 for a lookup), the plan started
/// from the customers of the region instead and reached the items through their index.
const GOLDEN: &str = "\
Project: count(*) AS count
  HashAggregate: count(*)
    HashJoin: region = id
      IndexNestedLoopJoin: customers by primary key (id = customer)
        IndexNestedLoopJoin: orders by primary key (id = order_id)
          HashJoin: product = id
            SeqScan: items
            Filter: category = 'k7'
              SeqScan: products
      Filter: name = 'r3'
        SeqScan: regions";
#[test]
fn five_tables_join_in_the_cheapest_order_whatever_the_from_list() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("join.db")).unwrap();
    let mut s = db.session();
    shop(&mut s);
    let plan = lines(
        &mut s,
        &format!("EXPLAIN (COSTS OFF) {}", query(&[0, 1, 2, 3, 4])),
    );
    assert_eq!(plan.join("\n"), GOLDEN);
    let truth = expected().to_string();
    for order in [
        [0, 1, 2, 3, 4],
        [4, 3, 2, 1, 0],
        [2, 0, 4, 1, 3],
        [1, 3, 0, 4, 2],
    ] {
        let sql = query(&order);
        assert_eq!(lines(&mut s, &sql), std::slice::from_ref(&truth), "{sql}");
        // The joins are planned alike (the projection that restores the FROM list's
        // column order above them is the only difference).
        let joins: Vec<String> = lines(&mut s, &format!("EXPLAIN (COSTS OFF) {sql}"))
            .into_iter()
            .filter(|l| !l.trim_start().starts_with("Project"))
            .map(|l| l.trim().to_string())
            .collect();
        let golden: Vec<String> = GOLDEN
            .lines()
            .filter(|l| !l.starts_with("Project"))
            .map(|l| l.trim().to_string())
            .collect();
        assert_eq!(joins, golden, "{sql}");
    }
}
