//! Charts of a report, drawn with plotters into one SVG file.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::measure::Row;

const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Writes two charts: each strategy's load per server (busiest first, as a share of the
/// mean), and the keys each keyed strategy moves on a removal, a join and a failure.
pub fn write(path: &Path, rows: &[Row]) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (1000, 900)).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, bottom) = root.split_vertically(480);

    let servers = rows.iter().map(|r| r.counts.len()).max().unwrap_or(1);
    let peak = rows.iter().map(|r| r.peak_to_mean).fold(1.0, f64::max);
    let mut load = ChartBuilder::on(&top)
        .caption(
            "Load per server, busiest first (1.0 = its weight's share)",
            ("sans-serif", 20),
        )
        .margin(15)
        .x_label_area_size(35)
        .y_label_area_size(50)
        .build_cartesian_2d(0..servers, 0.0..peak * 1.05)?;
    load.configure_mesh()
        .x_desc("servers, ranked by load")
        .y_desc("load / expected")
        .draw()?;
    for (i, r) in rows.iter().enumerate() {
        let total: u64 = r.counts.iter().sum();
        let mean = total as f64 / r.counts.len() as f64;
        let mut ratios: Vec<f64> = r.counts.iter().map(|&c| c as f64 / mean).collect();
        ratios.sort_by(|a, b| b.total_cmp(a));
        let color = PALETTE[i % PALETTE.len()];
        load.draw_series(LineSeries::new(
            ratios.into_iter().enumerate(),
            color.stroke_width(2),
        ))?
        .label(r.strategy)
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    load.configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()?;

    let keyed: Vec<&Row> = rows
        .iter()
        .filter(|r| r.moved_on_remove.is_some())
        .collect();
    let worst = keyed
        .iter()
        .flat_map(|r| [r.moved_on_remove, r.moved_on_add, r.moved_on_unhealthy])
        .flatten()
        .fold(0.01, f64::max);
    let mut moved = ChartBuilder::on(&bottom)
        .caption(
            "Keys moved (removal, join, failure of one server)",
            ("sans-serif", 20),
        )
        .margin(15)
        .x_label_area_size(35)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..keyed.len().max(1) as f64, 0.0..worst * 105.0)?;
    moved
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc("% of keys")
        .draw()?;
    let name_style = TextStyle::from(("sans-serif", 15)).pos(Pos::new(HPos::Center, VPos::Top));
    moved.draw_series(keyed.iter().enumerate().map(|(i, r)| {
        Text::new(
            r.strategy,
            (i as f64 + 0.5, worst * 104.0),
            name_style.clone(),
        )
    }))?;
    let kinds = ["removed", "added", "unhealthy"];
    for (k, kind) in kinds.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        moved
            .draw_series(keyed.iter().enumerate().map(|(i, r)| {
                let v = [r.moved_on_remove, r.moved_on_add, r.moved_on_unhealthy][k].unwrap_or(0.0);
                let x0 = i as f64 + 0.15 + 0.23 * k as f64;
                Rectangle::new([(x0, 0.0), (x0 + 0.2, v * 100.0)], color.filled())
            }))?
            .label(*kind)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], color.filled()));
    }
    moved
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()?;
    root.present()?;
    Ok(())
}
