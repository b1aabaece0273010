//! Exercise areas: GeoJSON (RFC 7946) polygons in parley's integer profile.
//! Signed entries carry integers only, so each coordinate is written as
//! degrees × 10^7 (about 1 cm): `[longitude_e7, latitude_e7]`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::violation::Violations;

/// Degrees × 10^7 per degree.
pub const E7: f64 = 10_000_000.0;

/// A GeoJSON Polygon geometry with integer (×10^7) coordinates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Area {
    /// Always "Polygon".
    #[serde(rename = "type")]
    pub kind: String,
    /// Linear rings: the outer boundary first, then any holes. Each
    /// position is `[longitude × 10^7, latitude × 10^7]`; each ring is
    /// closed (its last position repeats its first).
    pub coordinates: Vec<Vec<[i64; 2]>>,
}

impl Area {
    pub fn check(&self, field: &str, v: &mut Violations) {
        v.check(
            self.kind == "Polygon",
            format!("{field}.type"),
            "only GeoJSON Polygon areas are accepted",
        );
        v.check(
            !self.coordinates.is_empty(),
            format!("{field}.coordinates"),
            "an area needs an outer ring",
        );
        for (r, ring) in self.coordinates.iter().enumerate() {
            let f = format!("{field}.coordinates[{r}]");
            if ring.len() < 4 {
                v.push(&f, "a ring needs at least 4 positions (a triangle, closed)");
                continue;
            }
            v.check(
                ring.first() == ring.last(),
                &f,
                "a ring must be closed: its last position must repeat its first",
            );
            for (i, [lon, lat]) in ring.iter().enumerate() {
                v.check(
                    (-1_800_000_000..=1_800_000_000).contains(lon),
                    format!("{f}[{i}][0]"),
                    "longitude × 10^7 must lie within ±1,800,000,000",
                );
                v.check(
                    (-900_000_000..=900_000_000).contains(lat),
                    format!("{f}[{i}][1]"),
                    "latitude × 10^7 must lie within ±900,000,000",
                );
            }
        }
    }

    /// The outer ring in degrees, for drawing.
    pub fn outer_degrees(&self) -> Vec<(f64, f64)> {
        self.coordinates
            .first()
            .map(|r| {
                r.iter()
                    .map(|[lon, lat]| (*lon as f64 / E7, *lat as f64 / E7))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Standard GeoJSON (floating-point degrees), for export.
    pub fn to_geojson(&self) -> serde_json::Value {
        let rings: Vec<Vec<[f64; 2]>> = self
            .coordinates
            .iter()
            .map(|r| {
                r.iter()
                    .map(|[lon, lat]| [*lon as f64 / E7, *lat as f64 / E7])
                    .collect()
            })
            .collect();
        serde_json::json!({"type": "Polygon", "coordinates": rings})
    }

    /// A rectangle from degrees, for examples and forms.
    pub fn rectangle(west: f64, south: f64, east: f64, north: f64) -> Area {
        let p = |lon: f64, lat: f64| [(lon * E7).round() as i64, (lat * E7).round() as i64];
        Area {
            kind: "Polygon".into(),
            coordinates: vec![vec![
                p(west, south),
                p(east, south),
                p(east, north),
                p(west, north),
                p(west, south),
            ]],
        }
    }
}

/// A point, as `[longitude × 10^7, latitude × 10^7]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Position {
    pub longitude_e7: i64,
    pub latitude_e7: i64,
}

impl Position {
    pub fn check(&self, field: &str, v: &mut Violations) {
        v.check(
            (-1_800_000_000..=1_800_000_000).contains(&self.longitude_e7),
            format!("{field}.longitude_e7"),
            "must lie within ±1,800,000,000 (degrees × 10^7)",
        );
        v.check(
            (-900_000_000..=900_000_000).contains(&self.latitude_e7),
            format!("{field}.latitude_e7"),
            "must lie within ±900,000,000 (degrees × 10^7)",
        );
    }
}
