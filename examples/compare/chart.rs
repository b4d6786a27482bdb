//! One chart panel: a title, a legend above the plot, and horizontal bars, one group a
//! strategy, each bar with its value written beside it (inside it where there is no room,
//! and past a break where the axis stops short of it).

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
pub type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Colours of the series, in order.
const COLORS: [RGBColor; 3] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
];

const FONT: &str = "sans-serif";
/// Plotters' SVG backend writes 1/1.24 of the font size it is given: sizes here are in
/// pixels as drawn, times this.
const FONT_SCALE: f64 = 1.24;
const GREY: RGBColor = RGBColor(110, 110, 110);
/// Pixels a character of the 14-pixel value labels takes, about.
const CHAR_PX: i32 = 9;
/// Height of the title and legend above the plot, and the labels of its marks.
const HEAD_PX: u32 = 78;
/// Height of a bar and of the gap between groups.
const BAR_PX: u32 = 19;
const GAP_PX: u32 = 14;
/// Height of the value axis below the plot.
const AXIS_PX: u32 = 48;
/// Room below a panel, before the next one.
const SPACE_PX: u32 = 28;

/// A bar from `from` to `to` on the value axis, and the text written beside it.
pub struct Bar {
    pub from: f64,
    pub to: f64,
    pub text: String,
}

/// A series of bars: its legend, and a bar (or none) for each strategy.
pub struct Series {
    pub label: String,
    pub bars: Vec<Option<Bar>>,
}

/// The value axis: its range, whether it is logarithmic, its name, and how a tick reads.
pub struct Axis {
    pub lo: f64,
    pub hi: f64,
    pub log: bool,
    pub name: String,
    pub tick: fn(f64) -> String,
}

impl Axis {
    /// A logarithmic axis over whole decades around `values` (from 1 to 10 without any).
    pub fn log(values: impl Iterator<Item = f64>, name: &str, tick: fn(f64) -> String) -> Axis {
        let (lo, hi) = values
            .filter(|v| *v > 0.0)
            .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let (lo, hi) = if lo <= hi { (lo, hi) } else { (1.0, 1.0) };
        Axis {
            lo: 10f64.powi(lo.log10().floor() as i32),
            hi: 10f64.powi(hi.log10().floor() as i32 + 1),
            log: true,
            name: name.into(),
            tick,
        }
    }

    /// Where `v` sits on the plot's own (linear) scale.
    fn at(&self, v: f64) -> f64 {
        if self.log { v.max(self.lo).log10() } else { v }
    }
}

/// A panel of horizontal bars.
pub struct Panel<'a> {
    pub title: String,
    pub names: &'a [&'a str],
    pub series: Vec<Series>,
    pub axis: Axis,
    /// Dashed vertical lines at these values, with their labels.
    pub marks: Vec<(f64, String)>,
    /// Written where a strategy has no bar of a series.
    pub missing: &'a str,
}

impl Panel<'_> {
    /// The height the panel needs.
    pub fn height(&self) -> u32 {
        let groups = self.names.len() as u32;
        HEAD_PX + AXIS_PX + groups * (self.series.len() as u32 * BAR_PX + GAP_PX) + SPACE_PX
    }

    pub fn draw(&self, area: &Area) -> Result {
        let (head, body) = area.split_vertically(HEAD_PX);
        self.draw_head(&head)?;
        let axis = &self.axis;
        let groups = self.names.len() as f64;
        let name_px = self.names.iter().map(|n| n.len() as u32).max().unwrap_or(0) * 10 + 20;
        let mut chart = ChartBuilder::on(&body)
            .margin_right(40)
            .margin_bottom(SPACE_PX)
            .x_label_area_size(AXIS_PX - 4)
            .y_label_area_size(name_px)
            .build_cartesian_2d(axis.at(axis.lo)..axis.at(axis.hi), 0.0..groups)?;
        let (log, tick) = (axis.log, axis.tick);
        let decades = (axis.at(axis.hi) - axis.at(axis.lo)).round() as usize;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_labels(if log { decades + 1 } else { 8 })
            .max_light_lines(0)
            .x_label_formatter(&|v| {
                tick(if log {
                    10f64.powi(v.round() as i32)
                } else {
                    *v
                })
            })
            .x_label_style((FONT, 14.0 * FONT_SCALE))
            .x_desc(axis.name.as_str())
            .axis_desc_style((FONT, 14.0 * FONT_SCALE))
            .bold_line_style(RGBColor(205, 205, 205))
            .light_line_style(RGBColor(238, 238, 238))
            .draw()?;
        if log {
            self.draw_minor_ticks(&chart)?;
        }
        let base = area.get_base_pixel();
        // Pixel positions on `area` of a value and a height on the chart.
        let px = |x: f64, y: f64| {
            let (a, b) = chart.backend_coord(&(axis.at(x), y));
            (a - base.0, b - base.1)
        };
        let right = px(axis.hi, 0.0).0;
        // The marks go under the bars and their labels.
        for (v, label) in &self.marks {
            let (x, top) = px(*v, groups);
            let bottom = px(*v, 0.0).1;
            let line = DashedPathElement::new([(x, top), (x, bottom)], 5, 4, BLACK.stroke_width(1));
            area.draw(&line)?;
            let style = text(13, &BLACK, HPos::Center);
            area.draw(&Text::new(label.clone(), (x, top - 8), style))?;
        }
        let per_group = self.series.len() as f64 + GAP_PX as f64 / BAR_PX as f64;
        let bar_h = 1.0 / per_group;
        for (g, name) in self.names.iter().enumerate() {
            let top = groups - g as f64 - bar_h * GAP_PX as f64 / BAR_PX as f64 / 2.0;
            let mid = px(axis.lo, top - bar_h * self.series.len() as f64 / 2.0);
            let style = text(15, &BLACK, HPos::Right);
            area.draw(&Text::new(name.to_string(), (mid.0 - 8, mid.1), style))?;
            for (s, series) in self.series.iter().enumerate() {
                let y0 = top - bar_h * s as f64;
                let y1 = y0 - bar_h * 0.9;
                let color = COLORS[s % COLORS.len()];
                let Some(bar) = &series.bars[g] else {
                    let at = px(axis.lo, (y0 + y1) / 2.0);
                    let style = text(13, &GREY, HPos::Left);
                    area.draw(&Text::new(self.missing, (at.0 + 6, at.1), style))?;
                    continue;
                };
                self.draw_bar(area, bar, color, right, px(bar.from, y0), px(bar.to, y1))?;
            }
        }
        Ok(())
    }

    /// The title, and the legend below it.
    fn draw_head(&self, head: &Area) -> Result {
        let title = (FONT, 20.0 * FONT_SCALE).into_font().style(FontStyle::Bold);
        head.draw(&Text::new(self.title.clone(), (16, 10), title))?;
        let mut x = 24;
        for (s, series) in self.series.iter().enumerate() {
            let color = COLORS[s % COLORS.len()];
            head.draw(&Rectangle::new([(x, 42), (x + 16, 58)], color.filled()))?;
            let style = text(15, &BLACK, HPos::Left);
            head.draw(&Text::new(series.label.clone(), (x + 22, 50), style))?;
            x += 22 + series.label.chars().count() as i32 * 8 + 32;
        }
        Ok(())
    }

    /// Short ticks at 2, 3, … 9 of each decade of a logarithmic axis.
    fn draw_minor_ticks(
        &self,
        chart: &ChartContext<SVGBackend, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    ) -> Result {
        let decades = self.axis.at(self.axis.lo) as i32..self.axis.at(self.axis.hi) as i32;
        let minor =
            decades.flat_map(|d| (2..10).map(move |m| (f64::from(m)).log10() + f64::from(d)));
        let groups = self.names.len() as f64;
        let grey = RGBColor(238, 238, 238);
        for x in minor {
            let line = PathElement::new([(x, 0.0), (x, groups)], grey);
            chart.plotting_area().draw(&line)?;
        }
        Ok(())
    }

    /// One bar from pixel `a` to pixel `b`, its text beside it or inside it; a bar past the
    /// plot's `right` edge stops there, with a break.
    fn draw_bar(
        &self,
        area: &Area,
        bar: &Bar,
        color: RGBColor,
        right: i32,
        a: (i32, i32),
        b: (i32, i32),
    ) -> Result {
        let clipped = b.0 > right;
        // At least 2 pixels, so that an even spread (from 1.0 to 1.0) still shows.
        let end = b.0.min(right).max(a.0 + 2);
        area.draw(&Rectangle::new([a, (end, b.1)], color.filled()))?;
        if clipped {
            for dx in [-22, -16] {
                let slant = [(end + dx, b.1 + 1), (end + dx + 4, a.1 - 1)];
                area.draw(&PathElement::new(slant, WHITE.stroke_width(3)))?;
            }
        }
        let mid = (a.1 + b.1) / 2;
        let width = bar.text.chars().count() as i32 * CHAR_PX;
        if clipped || end + 6 + width > right + 20 {
            let x = end - if clipped { 28 } else { 5 };
            area.draw(&Text::new(
                bar.text.clone(),
                (x, mid),
                text(14, &WHITE, HPos::Right),
            ))?;
        } else {
            // On white, over the grid and the marks.
            let back = [(end + 2, mid - 8), (end + 8 + width, mid + 8)];
            area.draw(&Rectangle::new(back, WHITE.filled()))?;
            let style = text(14, &BLACK, HPos::Left);
            area.draw(&Text::new(bar.text.clone(), (end + 5, mid), style))?;
        }
        Ok(())
    }
}

/// A text style of `size` pixels.
fn text(size: u32, color: &'static RGBColor, h: HPos) -> TextStyle<'static> {
    TextStyle::from((FONT, f64::from(size) * FONT_SCALE).into_font())
        .color(color)
        .pos(Pos::new(h, VPos::Center))
}
