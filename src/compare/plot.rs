//! SVG plots of a report (plotters, SVG backend): write latency against client count
//! (p99, D vs H, both durability modes), throughput against client count, and the
//! attribute query's time against data size. Both axes are logarithmic: client counts
//! and sizes grow by factors, and D's and H's figures lie orders of magnitude apart.

use std::path::{Path, PathBuf};

use plotters::coord::combinators::IntoLogRange;
use plotters::prelude::*;

use super::report::Report;
use super::stores::Mode;
use super::{CompareError, Result};

/// One line of a plot: a label, a colour, a dash or not, and its points.
struct Series {
    label: String,
    color: RGBColor,
    points: Vec<(f64, f64)>,
}

const D_COLOR: RGBColor = RGBColor(200, 60, 40);
const H_COLOR: RGBColor = RGBColor(40, 90, 200);
const H_NO_INDEX_COLOR: RGBColor = RGBColor(120, 160, 230);
const D_OFF_COLOR: RGBColor = RGBColor(240, 150, 120);

/// Draws every plot of `report` into `dir`; returns the files written.
pub fn draw_all(report: &Report, dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    if let Some(launch) = &report.launch {
        let line = |system: &str,
                    mode: Mode,
                    color: RGBColor,
                    value: fn(&super::launch::LaunchPoint) -> f64| Series {
            label: format!("{system}, durability {}", mode.name()),
            color,
            points: launch
                .points
                .iter()
                .filter(|p| p.system == system && p.mode == mode)
                .map(|p| (p.clients as f64, value(p)))
                .collect(),
        };
        let lines = |value: fn(&super::launch::LaunchPoint) -> f64| {
            vec![
                line("D", Mode::Full, D_COLOR, value),
                line("H", Mode::Full, H_COLOR, value),
                line("D", Mode::Off, D_OFF_COLOR, value),
                line("H", Mode::Off, H_NO_INDEX_COLOR, value),
            ]
        };
        let path = dir.join("latency_vs_clients.svg");
        draw(
            &path,
            "p99 write latency vs client threads",
            "client threads",
            "p99 write latency (µs)",
            &lines(|p| p.writes.p99_us),
        )?;
        files.push(path);
        let path = dir.join("throughput_vs_clients.svg");
        draw(
            &path,
            "throughput vs client threads",
            "client threads",
            "operations / s",
            &lines(|p| p.throughput_ops_per_sec),
        )?;
        files.push(path);
    }
    if let Some(attribute) = &report.attribute {
        let status = super::attribute::QUERY_STATUSES[0];
        let points = |value: fn(&super::attribute::AttributePoint) -> f64| {
            attribute
                .points
                .iter()
                .filter(|p| p.status == status)
                .map(|p| (p.documents as f64, value(p) * 1e6))
                .collect::<Vec<_>>()
        };
        let series = vec![
            Series {
                label: "D: scan (find_by)".into(),
                color: D_COLOR,
                points: points(|p| p.d_scan_secs),
            },
            Series {
                label: "H: index scan".into(),
                color: H_COLOR,
                points: points(|p| p.h_index_secs),
            },
            Series {
                label: "H: no index (seq scan)".into(),
                color: H_NO_INDEX_COLOR,
                points: points(|p| p.h_no_index_secs),
            },
        ];
        let path = dir.join("latency_vs_size.svg");
        let title = format!("users with status = '{status}' vs data size");
        draw(&path, &title, "documents", "query time (µs)", &series)?;
        files.push(path);
    }
    Ok(files)
}

/// An axis label: `3`, `250`, `12k`, `1.5M`.
fn axis_number(x: f64) -> String {
    let (value, suffix) = match x.abs() {
        v if v >= 1e6 => (x / 1e6, "M"),
        v if v >= 1e3 => (x / 1e3, "k"),
        _ => (x, ""),
    };
    let text = format!("{value:.1}");
    format!("{}{suffix}", text.trim_end_matches(".0"))
}

/// A log-log line plot of `series`.
fn draw(path: &Path, title: &str, x_label: &str, y_label: &str, series: &[Series]) -> Result<()> {
    let plot_error =
        |e: &dyn std::fmt::Display| CompareError::Check(format!("plot {}: {e}", path.display()));
    let all = series.iter().flat_map(|s| s.points.iter());
    let (mut x_min, mut x_max, mut y_min, mut y_max) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in all.filter(|(x, y)| *x > 0.0 && *y > 0.0) {
        x_min = x_min.min(x);
        x_max = x_max.max(x);
        y_min = y_min.min(y);
        y_max = y_max.max(y);
    }
    if x_min > x_max {
        (x_min, x_max, y_min, y_max) = (1.0, 10.0, 1.0, 10.0);
    }
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_error(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(72)
        .build_cartesian_2d(
            (x_min * 0.8..x_max * 1.25).log_scale(),
            (y_min * 0.5..y_max * 2.0).log_scale(),
        )
        .map_err(|e| plot_error(&e))?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .x_label_formatter(&|x| axis_number(*x))
        .y_label_formatter(&|y| axis_number(*y))
        .draw()
        .map_err(|e| plot_error(&e))?;
    for s in series {
        let color = s.color;
        let points: Vec<(f64, f64)> = s
            .points
            .iter()
            .copied()
            .filter(|(x, y)| *x > 0.0 && *y > 0.0)
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
            .map_err(|e| plot_error(&e))?
            .label(s.label.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))
            .map_err(|e| plot_error(&e))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(|e| plot_error(&e))?;
    root.present().map_err(|e| plot_error(&e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_numbers_are_short() {
        assert_eq!(axis_number(1.0), "1");
        assert_eq!(axis_number(2.5), "2.5");
        assert_eq!(axis_number(16.0), "16");
        assert_eq!(axis_number(12_000.0), "12k");
        assert_eq!(axis_number(1_500_000.0), "1.5M");
    }
}
