//! The backtest report: one self-contained HTML page (inline CSS and SVG, no scripts,
//! fonts or external assets), with a leaderboard and PAI-vs-coverage curves.

use std::fmt::Write as _;

use serde_json::Value;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn f(v: &Value) -> Option<f64> {
    v.as_f64().filter(|x| x.is_finite())
}

/// Colours for up to eight curves (then they repeat).
const COLOURS: [&str; 8] = [
    "#1b6ca8", "#d1495b", "#edae49", "#00798c", "#6a4c93", "#30638e", "#8f2d56", "#3e7c17",
];

/// The PAI-vs-coverage chart as inline SVG.
fn chart(models: &[Value]) -> String {
    let (w, h, left, bottom, top, right) = (640.0, 360.0, 56.0, 40.0, 16.0, 150.0);
    let points: Vec<(String, Vec<(f64, f64)>)> = models
        .iter()
        .map(|m| {
            let name = m["name"].as_str().unwrap_or("?").to_string();
            let pts = m["coverage"]
                .as_array()
                .map(|cs| {
                    cs.iter()
                        .filter_map(|c| Some((f(&c["coverage_pct"])?, f(&c["pai"])?)))
                        .collect()
                })
                .unwrap_or_default();
            (name, pts)
        })
        .collect();
    let max_x = points
        .iter()
        .flat_map(|(_, p)| p.iter().map(|q| q.0))
        .fold(0.0, f64::max)
        .max(1.0);
    let max_y = points
        .iter()
        .flat_map(|(_, p)| p.iter().map(|q| q.1))
        .fold(0.0, f64::max)
        .max(1.0)
        * 1.1;
    let px = |x: f64| left + x / max_x * (w - left - right);
    let py = |y: f64| h - bottom - y / max_y * (h - bottom - top);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="PAI against coverage">"#
    );
    let _ = write!(
        s,
        r##"<line x1="{left}" y1="{}" x2="{}" y2="{}" stroke="#333"/><line x1="{left}" y1="{top}" x2="{left}" y2="{}" stroke="#333"/>"##,
        h - bottom,
        w - right,
        h - bottom,
        h - bottom
    );
    for k in 0..=4 {
        let y = max_y * f64::from(k) / 4.0;
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" font-size="11" text-anchor="end">{y:.1}</text><line x1="{left}" y1="{}" x2="{}" y2="{}" stroke="#ddd"/>"##,
            left - 6.0,
            py(y) + 4.0,
            py(y),
            w - right,
            py(y)
        );
        let x = max_x * f64::from(k) / 4.0;
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" font-size="11" text-anchor="middle">{x:.1}%</text>"#,
            px(x),
            h - bottom + 16.0
        );
    }
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" font-size="12" text-anchor="middle">coverage (% of area)</text><text x="14" y="{}" font-size="12" transform="rotate(-90 14 {})" text-anchor="middle">PAI</text>"#,
        (left + w - right) / 2.0,
        h - 4.0,
        h / 2.0,
        h / 2.0
    );
    for (k, (name, pts)) in points.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        let path: Vec<String> = pts
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y)))
            .collect();
        let _ = write!(
            s,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#,
            path.join(" ")
        );
        for &(x, y) in pts {
            let _ = write!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{colour}"/>"#,
                px(x),
                py(y)
            );
        }
        let ly = top + 14.0 + 18.0 * k as f64;
        let _ = write!(
            s,
            r#"<rect x="{}" y="{}" width="12" height="4" fill="{colour}"/><text x="{}" y="{}" font-size="12">{}</text>"#,
            w - right + 12.0,
            ly - 4.0,
            w - right + 30.0,
            ly,
            esc(name)
        );
    }
    s.push_str("</svg>");
    s
}

/// The report page for a backtest's JSON document.
pub fn backtest_html(doc: &Value) -> String {
    let empty = Vec::new();
    let models = doc["models"].as_array().unwrap_or(&empty);
    let coverages: Vec<f64> = doc["coverage_pct"]
        .as_array()
        .map(|a| a.iter().filter_map(f).collect())
        .unwrap_or_default();
    // Leaderboard: best mean PAI at the first coverage level first.
    let mut order: Vec<usize> = (0..models.len()).collect();
    let key = |m: &Value| f(&m["coverage"][0]["pai"]).unwrap_or(f64::NEG_INFINITY);
    order.sort_by(|&a, &b| key(&models[b]).total_cmp(&key(&models[a])));
    let mut s = String::new();
    let title = format!(
        "Backtest: {} {}",
        doc["dataset"].as_str().unwrap_or(""),
        doc["categories"]
            .as_array()
            .map(|c| c
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", "))
            .unwrap_or_default()
    );
    let _ = write!(
        s,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>body{{font-family:system-ui,sans-serif;margin:2rem;color:#222}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}}th:first-child,td:first-child{{text-align:left}}caption{{text-align:left;font-weight:600;margin:.5rem 0}}</style></head><body>",
        esc(&title)
    );
    let _ = write!(s, "<h1>{}</h1>", esc(&title));
    // The scored units: grid cells, or H3 cells and boundary areas that the models' base
    // grid is summed into (ranked by score per unit area, flagged by area).
    let u = &doc["units"];
    let units = match u["kind"].as_str() {
        Some("h3") => format!("{} H3 cells of resolution {}", u["cells"], u["resolution"]),
        Some("boundary") => format!(
            "{} areas of {}",
            u["areas"],
            esc(u["boundary_file"].as_str().unwrap_or("the boundary"))
        ),
        _ => format!("{} cells", u["cells"]),
    };
    let on_units = doc["base_cell_size_m"].is_number();
    let _ = write!(
        s,
        "<p>{} origins from {} every {} days; {} days of training; {}-day horizon; {} ({:.1} km²){}. PAI = hit rate / area share; PEI* = hits / best possible hits {}; ± is the standard error over origins. Ties in scores are broken by a seeded random order.</p>",
        doc["origins"],
        esc(doc["start"].as_str().unwrap_or("")),
        doc["step_days"],
        doc["train_days"],
        doc["horizon_days"],
        units,
        f(&doc["units_area_km2"])
            .or_else(|| f(&doc["study_area_km2"]))
            .unwrap_or(f64::NAN),
        if on_units {
            format!(
                ", the models run on {} m base cells summed into the units, which are ranked by score per unit area and flagged by area",
                doc["base_cell_size_m"]
            )
        } else {
            String::new()
        },
        if on_units {
            "within the same area"
        } else {
            "with as many cells"
        }
    );
    s.push_str("<table><caption>Leaderboard (mean over origins)</caption><tr><th>model</th>");
    for c in &coverages {
        let _ = write!(
            s,
            "<th>PAI@{c}%</th><th>hit rate@{c}%</th><th>PEI*@{c}%</th>"
        );
    }
    s.push_str("<th>log-likelihood</th><th>ms per fit</th></tr>");
    for &k in &order {
        let m = &models[k];
        let _ = write!(s, "<tr><td>{}</td>", esc(m["name"].as_str().unwrap_or("?")));
        for (j, _) in coverages.iter().enumerate() {
            let c = &m["coverage"][j];
            let cell = |v: &Value| f(v).map_or("–".to_string(), |x| format!("{x:.3}"));
            let _ = write!(
                s,
                "<td>{} ± {}</td><td>{}</td><td>{}</td>",
                cell(&c["pai"]),
                cell(&c["pai_se"]),
                cell(&c["hit_rate"]),
                cell(&c["pei_star"])
            );
        }
        let _ = write!(
            s,
            "<td>{}</td><td>{:.1}</td></tr>",
            f(&m["mean_log_likelihood"]).map_or("–".to_string(), |x| format!("{x:.1}")),
            f(&m["ms_per_fit"]).unwrap_or(f64::NAN)
        );
    }
    s.push_str("</table><h2>PAI against coverage</h2>");
    s.push_str(&chart(models));
    s.push_str("<h2>Parameters (first origin)</h2><ul>");
    for m in models {
        let _ = write!(
            s,
            "<li><b>{}</b>: {}</li>",
            esc(m["name"].as_str().unwrap_or("?")),
            esc(&m["parameters"].to_string())
        );
    }
    s.push_str("</ul></body></html>\n");
    s
}
