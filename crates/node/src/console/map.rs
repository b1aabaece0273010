//! The exercise map: inline SVG over Natural Earth's country outlines
//! (1:110m, public domain) shipped with parley: no map tiles, no network.

use crate::console::i18n::t;
use std::sync::OnceLock;

use maud::{Markup, html};

const OUTLINE: &str = include_str!("assets/europe.txt");

/// The map's extent, in degrees.
const WEST: f64 = -11.0;
const EAST: f64 = 50.0;
const SOUTH: f64 = 34.0;
const NORTH: f64 = 71.5;
/// Pixels per degree of latitude.
const SCALE: f64 = 26.0;

/// A country's ring, or the point where its name goes.
enum Shape {
    Land(Vec<(f64, f64)>),
    Label(String, (f64, f64)),
}

fn shapes() -> &'static [Shape] {
    static SHAPES: OnceLock<Vec<Shape>> = OnceLock::new();
    SHAPES.get_or_init(|| {
        let mut out = Vec::new();
        for block in OUTLINE.split("\n\n") {
            let mut lines = block
                .lines()
                .filter(|l| !l.starts_with('#') && !l.trim().is_empty());
            let Some(head) = lines.next() else { continue };
            let points: Vec<(f64, f64)> = lines
                .filter_map(|l| {
                    let mut it = l.split_whitespace().map(|x| x.parse::<f64>().ok());
                    Some((it.next()??, it.next()??))
                })
                .collect();
            match head.split_once(' ') {
                Some(("label", name)) => {
                    if let Some(p) = points.first() {
                        out.push(Shape::Label(name.to_string(), *p));
                    }
                }
                _ => out.push(Shape::Land(points)),
            }
        }
        out
    })
}

fn inside(lon: f64, lat: f64) -> bool {
    (WEST + 1.0..EAST - 1.0).contains(&lon) && (SOUTH + 0.5..NORTH - 0.5).contains(&lat)
}

/// Equirectangular, with longitude shrunk by the cosine of 52°N.
fn project(lon: f64, lat: f64) -> (f64, f64) {
    let k = 52f64.to_radians().cos();
    ((lon - WEST) * k * SCALE, (NORTH - lat) * SCALE)
}

fn size() -> (f64, f64) {
    project(EAST, SOUTH)
}

fn path(points: &[(f64, f64)]) -> String {
    let mut d = String::new();
    for (i, (lon, lat)) in points.iter().enumerate() {
        let (x, y) = project(*lon, *lat);
        d.push_str(&format!("{}{x:.1},{y:.1} ", if i == 0 { "M" } else { "L" }));
    }
    d.push('Z');
    d
}

/// One area to draw: its label, its class (`notifiable`, `observation`,
/// `voluntary`, or `danger` for an activity dangerous at sea) and its outer
/// ring in degrees.
pub struct MapArea {
    pub label: String,
    pub class: &'static str,
    pub ring: Vec<(f64, f64)>,
    pub href: String,
}

pub fn europe(areas: &[MapArea]) -> Markup {
    let (w, h) = size();
    let graticule: Vec<String> = (0..)
        .map(|i| -10.0 + 10.0 * f64::from(i))
        .take_while(|lon| *lon <= EAST)
        .map(|lon| {
            let (x1, y1) = project(lon, NORTH);
            let (x2, y2) = project(lon, SOUTH);
            format!("M{x1:.1},{y1:.1} L{x2:.1},{y2:.1}")
        })
        .chain(
            (0..)
                .map(|i| 40.0 + 10.0 * f64::from(i))
                .take_while(|lat| *lat <= NORTH)
                .map(|lat| {
                    let (x1, y1) = project(WEST, lat);
                    let (x2, y2) = project(EAST, lat);
                    format!("M{x1:.1},{y1:.1} L{x2:.1},{y2:.1}")
                }),
        )
        .collect();
    html! {
        svg.map viewBox=(format!("0 0 {w:.0} {h:.0}")) role="img" aria-label=(t!("Map of notified activities in Europe")) {
            path.grid d=(graticule.join(" ")) fill="none" {}
            @for s in shapes() {
                @if let Shape::Land(points) = s { path.land d=(path(points)) {} }
            }
            @for s in shapes() {
                @if let Shape::Label(name, (lon, lat)) = s {
                    @if inside(*lon, *lat) {
                        @let (x, y) = project(*lon, *lat);
                        text.place x=(format!("{x:.0}")) y=(format!("{y:.0}")) text-anchor="middle" { (crate::console::i18n::tr(name)) }
                    }
                }
            }
            @for a in areas {
                a href=(a.href) {
                    path class=(format!("area {}", a.class)) d=(path(&a.ring)) { title { (a.label) } }
                    @if let Some((x, y)) = centroid(&a.ring) { text x=(format!("{x:.0}")) y=(format!("{y:.0}")) text-anchor="middle" { (a.label) } }
                }
            }
        }
    }
}

fn centroid(ring: &[(f64, f64)]) -> Option<(f64, f64)> {
    if ring.is_empty() {
        return None;
    }
    let n = ring.len() as f64;
    let (lon, lat) = ring.iter().fold((0.0, 0.0), |a, p| (a.0 + p.0, a.1 + p.1));
    Some(project(lon / n, lat / n))
}
