#![allow(clippy::unwrap_used)]
//! `hdb compare --scale tiny` end to end: the binary runs every part of the comparison,
//! exits 0, and writes a well-formed report.json (every section present, every figure
//! positive, the systems' answers agreed), report.md and the SVG plots.

use std::process::Command;

use serde_json::Value;

fn positive(v: &Value, what: &str) -> f64 {
    let x = v
        .as_f64()
        .unwrap_or_else(|| panic!("{what} is not a number: {v}"));
    assert!(x > 0.0 && x.is_finite(), "{what} = {x}");
    x
}

fn check_latency(v: &Value, what: &str) {
    assert!(v["count"].as_u64().unwrap() > 0, "{what}: no operations");
    let p50 = positive(&v["p50_us"], what);
    let p99 = positive(&v["p99_us"], what);
    let p999 = positive(&v["p999_us"], what);
    let max = positive(&v["max_us"], what);
    assert!(
        p50 <= p99 && p99 <= p999 && p999 <= max * 1.001,
        "{what}: {v}"
    );
}

#[test]
fn tiny_scale_runs_end_to_end_and_writes_a_well_formed_report() {
    let out = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_hdb"))
        .args([
            "compare",
            "--scale",
            "tiny",
            "--duration-per-point",
            "0.03",
            "--no-progress",
            "--out",
        ])
        .arg(out.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("## Targets"), "{stdout}");
    assert!(stdout.contains("Simulated launch load"), "{stdout}");

    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("report.json")).unwrap())
            .unwrap();

    // Machine and scale.
    assert!(report["machine"]["cores"].as_u64().unwrap() >= 1);
    assert!(
        report["machine"]["date"]
            .as_str()
            .unwrap()
            .starts_with("20")
    );
    assert_eq!(report["scale"]["name"], "tiny");
    positive(&report["total_secs"], "total_secs");
    let shares: f64 = report["status_distribution"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s[1].as_f64().unwrap())
        .sum();
    assert!((shares - 100.0).abs() < 1e-9);

    // Load.
    let load = &report["load"];
    for system in ["d_secs", "h_secs", "sqlite_secs"] {
        positive(&load[system], system);
    }

    // 1. Launch load: every system, mode and client count, with operations and latencies.
    let points = report["launch"]["points"].as_array().unwrap();
    assert_eq!(points.len(), 2 * 2 * 5);
    for system in ["D", "H"] {
        for mode in ["Full", "Off"] {
            let clients: Vec<u64> = points
                .iter()
                .filter(|p| p["system"] == system && p["mode"] == mode)
                .map(|p| p["clients"].as_u64().unwrap())
                .collect();
            assert_eq!(clients, vec![1, 2, 4, 8, 16], "{system} {mode}");
        }
    }
    for p in points {
        let what = format!("{} {} {}", p["system"], p["mode"], p["clients"]);
        positive(&p["throughput_ops_per_sec"], &what);
        assert!(p["operations"].as_u64().unwrap() > 0, "{what}");
        check_latency(&p["writes"], &format!("{what} writes"));
    }

    // 2. Attribute sweep: both sizes, both statuses, all three timings.
    let attribute = &report["attribute"];
    assert_eq!(attribute["sizes"], serde_json::json!([1000, 10000]));
    let sweep = attribute["points"].as_array().unwrap();
    assert_eq!(sweep.len(), 4);
    for p in sweep {
        for field in [
            "d_scan_secs",
            "h_index_secs",
            "h_no_index_secs",
            "d_over_h_index",
        ] {
            positive(&p[field], field);
        }
        assert!(p["matching"].as_u64().unwrap() > 0);
    }
    assert!(
        attribute["plan_with_index"]
            .as_str()
            .unwrap()
            .contains("IndexScan")
    );
    assert!(
        attribute["plan_without_index"]
            .as_str()
            .unwrap()
            .contains("SeqScan")
    );
    assert_eq!(attribute["index_build_secs"].as_array().unwrap().len(), 2);

    // 3. Example 3: D and SQLite agree; H agrees too once it can run the query.
    let e3 = &report["example3"];
    assert_eq!(e3["d_agrees_with_sqlite"], true);
    assert_eq!(e3["sqlite_ordered"], true);
    assert!(e3["d"]["rows"].as_u64().unwrap() > 0);
    assert_eq!(e3["d"]["rows"], e3["sqlite"]["rows"]);
    positive(&e3["d"]["median_secs"], "example3 d");
    positive(&e3["sqlite"]["median_secs"], "example3 sqlite");
    if e3["h"]["available"] == true {
        assert_eq!(e3["h_agrees_with_sqlite"], true);
        assert_eq!(e3["h"]["rows"], e3["sqlite"]["rows"]);
    } else {
        assert!(!e3["h"]["error"].as_str().unwrap().is_empty());
    }

    // 4. Point lookups.
    for system in ["d", "h", "sqlite"] {
        check_latency(&report["point"][system], system);
    }

    // 5. Migration (hdb_tools::migrate, verified) of the base users and events.
    let migration = &report["migration"];
    assert_eq!(migration["verified"], true);
    let generated =
        report["scale"]["users"].as_u64().unwrap() + report["scale"]["events"].as_u64().unwrap();
    assert_eq!(migration["documents"].as_u64().unwrap(), generated);
    assert_eq!(migration["tool"], "hdb_tools::migrate");
    assert_eq!(migration["tables"].as_array().unwrap().len(), 2);
    positive(&migration["documents_per_sec"], "migration rate");

    // Targets and checks.
    let targets = report["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 2 + 2 + 1);
    for t in targets {
        assert!(!t["figure"].as_str().unwrap().is_empty());
    }
    // At this scale the launch-load points (40 ms) and the migration (a few thousand
    // documents) are too small to judge: neither met nor not met.
    for t in targets.iter().filter(|t| {
        let name = t["name"].as_str().unwrap();
        name.starts_with("durability") || name.starts_with("migration")
    }) {
        assert_eq!(t["met"], Value::Null, "{t}");
        assert!(t["figure"].as_str().unwrap().contains("to judge"), "{t}");
    }
    let checks = report["checks"].as_array().unwrap();
    assert!(!checks.is_empty());
    assert!(checks.iter().all(|c| c["passed"] == true), "{checks:?}");

    // report.md and the plots.
    let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(md.contains("## 3. The seed's Example 3"));
    for plot in [
        "latency_vs_clients.svg",
        "throughput_vs_clients.svg",
        "latency_vs_size.svg",
    ] {
        let svg = std::fs::read_to_string(out.path().join(plot)).unwrap();
        assert!(svg.starts_with("<svg"), "{plot}");
        assert!(
            svg.contains("<polyline") || svg.contains("<path"),
            "{plot} has no lines"
        );
        assert!(md.contains(plot), "report.md does not link {plot}");
        // The caption under the plot names the scale and the commit.
        let (_, caption) = svg_texts(&svg).into_iter().last().unwrap_or_default();
        assert!(caption.starts_with("scale tiny;"), "{plot}: {caption}");
        assert!(caption.contains("; commit "), "{plot}: {caption}");
    }
    assert!(md.contains("not judged"));
    assert!(!md.contains("**not met**"), "{md}");
    for plot in ["latency_vs_clients.svg", "throughput_vs_clients.svg"] {
        let texts = svg_texts(&std::fs::read_to_string(out.path().join(plot)).unwrap());
        let at = |text: &str| texts.iter().position(|(_, t)| t == text).unwrap();
        // The x axis is ticked at the measured client counts, in order, after its name.
        let ticks: Vec<&str> = texts[at("client threads") + 1..]
            .iter()
            .map(|(_, t)| t.as_str())
            .collect();
        let measured = ["1", "2", "4", "8", "16"];
        let first = ticks.windows(5).position(|w| w == measured);
        assert!(first.is_some(), "{plot}: {texts:?}");
        // The legend names each line to the right of the last tick: beside the data
        // area, not over it.
        let last_tick = texts[at("client threads") + 1 + first.unwrap() + 4].0;
        for label in ["D, durability full", "H, durability off"] {
            assert!(texts[at(label)].0 > last_tick + 40.0, "{plot}: {texts:?}");
        }
    }
    // Latencies in a unit that suits them, not thousands of µs.
    let latency =
        svg_texts(&std::fs::read_to_string(out.path().join("latency_vs_clients.svg")).unwrap());
    assert!(
        latency.iter().any(|(_, t)| [
            "p99 write latency (µs)",
            "p99 write latency (ms)",
            "p99 write latency (s)"
        ]
        .contains(&t.as_str())),
        "{latency:?}"
    );
    assert!(
        !latency.iter().any(|(_, t)| t.ends_with('k')),
        "{latency:?}"
    );
    // The stores are removed at the end: only the report files remain.
    let leftovers: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.ends_with(".svg") && !n.starts_with("report."))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// The `<text>` elements of an SVG plot, in drawing order: each one's x and text.
fn svg_texts(svg: &str) -> Vec<(f64, String)> {
    svg.split("<text")
        .skip(1)
        .filter_map(|element| {
            let (attributes, rest) = element.split_once('>')?;
            let (content, _) = rest.split_once("</text>")?;
            let x = attributes
                .split_once("x=\"")?
                .1
                .split_once('"')?
                .0
                .parse()
                .ok()?;
            Some((x, content.trim().to_string()))
        })
        .collect()
}

#[test]
fn bad_arguments_are_errors_not_panics() {
    for args in [
        vec!["compare", "--scale", "enormous"],
        vec!["compare", "--duration-per-point", "-1"],
        vec!["compare", "--duration-per-point", "nan"],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_hdb"))
            .args(&args)
            .output()
            .unwrap();
        assert!(!output.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(stderr.contains("error"), "{args:?}: {stderr}");
    }
}
