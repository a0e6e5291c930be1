//! SVG plots of a report (plotters, SVG backend): write latency against client count
//! (p99, D vs H, both durability modes), throughput against client count, and the
//! attribute query's time against data size. Both axes are logarithmic: client counts
//! and sizes grow by factors, and D's and H's figures lie orders of magnitude apart.
//!
//! Made to be read on paper too: each line has its own dash pattern and marker shape
//! besides its colour, so the lines stay apart in greyscale; the legend sits beside the
//! data area, never over it; the x axis is ticked at the measured points only (1, 2, 4,
//! 8, 16 clients; the sizes measured); times are shown in the unit that suits the
//! largest (µs, ms or s); and the caption under each plot names the scale, the machine
//! and the commit the figures come from.

use std::path::{Path, PathBuf};

use plotters::coord::combinators::{BindKeyPoints, IntoLogRange};
use plotters::prelude::*;

use super::report::Report;
use super::stores::Mode;
use super::{CompareError, Result};

/// How a line is drawn: solid, or dashes of this length and gap (pixels).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dash {
    Solid,
    Dashed(u32, u32),
}

/// The shape marking each measured point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    Circle,
    Square,
    Triangle,
    Cross,
}

/// How one line looks: colour, dash and marker, each distinct among a plot's lines.
#[derive(Debug, Clone, Copy)]
struct Look {
    color: RGBColor,
    dash: Dash,
    marker: Marker,
}

/// One line of a plot: a label, its look, and its points.
struct Series {
    label: String,
    look: Look,
    points: Vec<(f64, f64)>,
}

/// What the y values are: times in µs (shown in the unit that suits them) or counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum YValues {
    Micros,
    Count,
}

const D_FULL: Look = Look {
    color: RGBColor(200, 60, 40),
    dash: Dash::Solid,
    marker: Marker::Circle,
};
const H_FULL: Look = Look {
    color: RGBColor(40, 90, 200),
    dash: Dash::Dashed(12, 6),
    marker: Marker::Square,
};
const D_OFF: Look = Look {
    color: RGBColor(230, 140, 40),
    dash: Dash::Dashed(3, 4),
    marker: Marker::Triangle,
};
const H_OFF: Look = Look {
    color: RGBColor(60, 150, 90),
    dash: Dash::Dashed(14, 4),
    marker: Marker::Cross,
};

/// Draws every plot of `report` into `dir`; returns the files written.
pub fn draw_all(report: &Report, dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let caption = caption(report);
    if let Some(launch) = &report.launch {
        let line = |system: &str,
                    mode: Mode,
                    look: Look,
                    value: fn(&super::launch::LaunchPoint) -> f64| Series {
            label: format!("{system}, durability {}", mode.name()),
            look,
            points: launch
                .points
                .iter()
                .filter(|p| p.system == system && p.mode == mode)
                .map(|p| (p.clients as f64, value(p)))
                .collect(),
        };
        let lines = |value: fn(&super::launch::LaunchPoint) -> f64| {
            vec![
                line("D", Mode::Full, D_FULL, value),
                line("H", Mode::Full, H_FULL, value),
                line("D", Mode::Off, D_OFF, value),
                line("H", Mode::Off, H_OFF, value),
            ]
        };
        let path = dir.join("latency_vs_clients.svg");
        draw(
            &path,
            &Labels {
                title: "p99 write latency vs client threads",
                x: "client threads",
                y: "p99 write latency",
                caption: &caption,
            },
            YValues::Micros,
            &lines(|p| p.writes.p99_us),
        )?;
        files.push(path);
        let path = dir.join("throughput_vs_clients.svg");
        draw(
            &path,
            &Labels {
                title: "throughput vs client threads",
                x: "client threads",
                y: "operations / s",
                caption: &caption,
            },
            YValues::Count,
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
                look: D_FULL,
                points: points(|p| p.d_scan_secs),
            },
            Series {
                label: "H: index scan".into(),
                look: H_FULL,
                points: points(|p| p.h_index_secs),
            },
            Series {
                label: "H: no index (seq scan)".into(),
                look: H_OFF,
                points: points(|p| p.h_no_index_secs),
            },
        ];
        let path = dir.join("latency_vs_size.svg");
        let title = format!("users with status = '{status}' vs data size");
        draw(
            &path,
            &Labels {
                title: &title,
                x: "documents",
                y: "query time",
                caption: &caption,
            },
            YValues::Micros,
            &series,
        )?;
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

/// The words on a plot.
struct Labels<'a> {
    title: &'a str,
    x: &'a str,
    /// The y axis's name; for times the unit is added (`(ms)`).
    y: &'a str,
    caption: &'a str,
}

/// The caption under every plot: the scale, the machine and the commit.
fn caption(report: &Report) -> String {
    let m = &report.machine;
    format!(
        "scale {}; {} build, {} cores, {}{}; commit {}, {}",
        report.scale.name,
        m.build,
        m.cores,
        m.os,
        m.cpu
            .as_deref()
            .map(|c| format!(", {c}"))
            .unwrap_or_default(),
        m.git_commit.as_deref().unwrap_or("unknown"),
        m.date
    )
}

/// The unit for times whose largest is `max_us` microseconds: its name and how many
/// µs make one.
fn time_unit(max_us: f64) -> (&'static str, f64) {
    match max_us {
        m if m >= 1e6 => ("s", 1e6),
        m if m >= 1e3 => ("ms", 1e3),
        _ => ("µs", 1.0),
    }
}

/// A tick label in a time unit: `0.05`, `2.5`, `40`, `1500`.
fn unit_number(x: f64) -> String {
    let text = match x.abs() {
        v if v >= 100.0 => format!("{x:.0}"),
        v if v >= 1.0 => format!("{x:.1}"),
        _ => format!("{x:.3}"),
    };
    match text.contains('.') {
        true => text.trim_end_matches('0').trim_end_matches('.').to_string(),
        false => text,
    }
}

/// A log-log line plot of `series`, its legend to the right of the data area and the
/// caption under it.
fn draw(path: &Path, labels: &Labels, values: YValues, series: &[Series]) -> Result<()> {
    let plot_error =
        |e: &dyn std::fmt::Display| CompareError::Check(format!("plot {}: {e}", path.display()));
    let positive = |s: &Series| -> Vec<(f64, f64)> {
        s.points
            .iter()
            .copied()
            .filter(|(x, y)| *x > 0.0 && *y > 0.0)
            .collect()
    };
    let y_max_raw = series
        .iter()
        .flat_map(positive)
        .map(|(_, y)| y)
        .fold(0.0, f64::max);
    let (unit, per_unit) = match values {
        YValues::Micros => time_unit(y_max_raw),
        YValues::Count => ("", 1.0),
    };
    let scaled: Vec<Vec<(f64, f64)>> = series
        .iter()
        .map(|s| {
            positive(s)
                .into_iter()
                .map(|(x, y)| (x, y / per_unit))
                .collect()
        })
        .collect();
    let (mut x_min, mut x_max, mut y_min, mut y_max) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in scaled.iter().flatten() {
        x_min = x_min.min(x);
        x_max = x_max.max(x);
        y_min = y_min.min(y);
        y_max = y_max.max(y);
    }
    if x_min > x_max {
        (x_min, x_max, y_min, y_max) = (1.0, 10.0, 1.0, 10.0);
    }
    // Ticks on x at the measured points only.
    let mut measured: Vec<f64> = scaled.iter().flatten().map(|&(x, _)| x).collect();
    measured.sort_by(f64::total_cmp);
    measured.dedup();
    let y_label = match (values, unit) {
        (YValues::Micros, unit) => format!("{} ({unit})", labels.y),
        (YValues::Count, _) => labels.y.to_string(),
    };

    let root = SVGBackend::new(path, (1000, 580)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_error(&e))?;
    let (body, footer) = root.split_vertically(550);
    let (plot_area, legend_area) = body.split_horizontally(760);
    let mut chart = ChartBuilder::on(&plot_area)
        .caption(labels.title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(72)
        .build_cartesian_2d(
            (x_min * 0.8..x_max * 1.25)
                .log_scale()
                .with_key_points(measured),
            (y_min * 0.5..y_max * 2.0).log_scale(),
        )
        .map_err(|e| plot_error(&e))?;
    chart
        .configure_mesh()
        .x_desc(labels.x)
        .y_desc(y_label)
        .x_label_formatter(&|x| axis_number(*x))
        .y_label_formatter(&|y| match values {
            YValues::Micros => unit_number(*y),
            YValues::Count => axis_number(*y),
        })
        .draw()
        .map_err(|e| plot_error(&e))?;
    for (s, points) in series.iter().zip(&scaled) {
        let style = s.look.color.stroke_width(2);
        match s.look.dash {
            Dash::Solid => chart.draw_series(LineSeries::new(points.clone(), style)),
            Dash::Dashed(length, gap) => {
                chart.draw_series(DashedLineSeries::new(points.clone(), length, gap, style))
            }
        }
        .map_err(|e| plot_error(&e))?;
        for &point in points {
            let at = chart.backend_coord(&point);
            draw_marker(&root, at, s.look).map_err(|e| plot_error(&e))?;
        }
    }
    draw_legend(&legend_area, series).map_err(|e| plot_error(&e))?;
    footer
        .draw_text(
            labels.caption,
            &("sans-serif", 13).into_font().color(&BLACK.mix(0.75)),
            (16, 6),
        )
        .map_err(|e| plot_error(&e))?;
    root.present().map_err(|e| plot_error(&e))?;
    Ok(())
}

/// A point's marker, centred at `at` (pixels on `area`).
fn draw_marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    at: (i32, i32),
    look: Look,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let filled = look.color.filled();
    let (x, y) = at;
    match look.marker {
        Marker::Circle => area.draw(&Circle::new(at, 4, filled)),
        Marker::Square => area.draw(&Rectangle::new([(x - 4, y - 4), (x + 4, y + 4)], filled)),
        Marker::Triangle => area.draw(&TriangleMarker::new(at, 6, filled)),
        Marker::Cross => area.draw(&Cross::new(at, 5, look.color.stroke_width(2))),
    }
}

/// The legend, in its own area beside the data: each line's dash and marker, then its
/// label.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    series: &[Series],
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let font = ("sans-serif", 14).into_font();
    for (i, s) in series.iter().enumerate() {
        let y = 70 + 30 * i as i32;
        let style = s.look.color.stroke_width(2);
        let sample = [(8, y), (52, y)];
        match s.look.dash {
            Dash::Solid => area.draw(&PathElement::new(sample, style))?,
            Dash::Dashed(length, gap) => area.draw(&plotters::element::DashedPathElement::new(
                sample, length, gap, style,
            ))?,
        }
        draw_marker(area, (30, y), s.look)?;
        area.draw_text(&s.label, &font.color(&BLACK), (60, y - 8))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_take_the_unit_that_suits_them() {
        assert_eq!(time_unit(950.0), ("µs", 1.0));
        assert_eq!(time_unit(10_000.0), ("ms", 1e3));
        assert_eq!(time_unit(2_500_000.0), ("s", 1e6));
        assert_eq!(unit_number(10.0), "10");
        assert_eq!(unit_number(2.5), "2.5");
        assert_eq!(unit_number(0.05), "0.05");
        assert_eq!(unit_number(1500.0), "1500");
    }

    #[test]
    fn every_line_of_a_plot_looks_different_without_colour() {
        let looks = [D_FULL, H_FULL, D_OFF, H_OFF];
        for (i, a) in looks.iter().enumerate() {
            for b in &looks[i + 1..] {
                assert_ne!(a.dash, b.dash);
                assert_ne!(a.marker, b.marker);
            }
        }
    }

    #[test]
    fn axis_numbers_are_short() {
        assert_eq!(axis_number(1.0), "1");
        assert_eq!(axis_number(2.5), "2.5");
        assert_eq!(axis_number(16.0), "16");
        assert_eq!(axis_number(12_000.0), "12k");
        assert_eq!(axis_number(1_500_000.0), "1.5M");
    }
}
