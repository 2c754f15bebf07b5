//! Every CSV download neutralises cells a spreadsheet would run as a formula (a cell
//! starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a `'` in front), and
//! leaves genuine numbers, negative ones included, as they are: `/exports/metrics.csv` and
//! both shapes of `/exports/claims.csv`, over HTTP, on the demo zone.

use backbone::startup::StartOptions;
use backbone::store::contract;
use backbone_tests::*;
use sea_orm::{ConnectionTrait, EntityTrait};

/// The CSV's cells, read as a spreadsheet would read the file.
fn cells(text: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
    reader.records().map(|r| r.expect("a CSV record").iter().map(str::to_owned).collect()).collect()
}

/// No cell starts as a formula would, unless it is wholly a number.
fn assert_no_formula(text: &str) {
    for row in cells(text) {
        for cell in row {
            let number = cell.parse::<f64>().is_ok_and(f64::is_finite);
            assert!(number || !cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "formula cell {cell:?}");
        }
    }
}

async fn download(app: &TestApp, token: &str, path: &str) -> String {
    let resp = app.http.get(app.url(path)).bearer_auth(token).send().await.expect("sent");
    assert_eq!(resp.status().as_u16(), 200, "{path}");
    resp.text().await.expect("body")
}

#[tokio::test]
async fn formula_cells_are_neutralised_in_every_download_and_numbers_kept() {
    let app = TestApp::spawn_with(|_| {}, StartOptions { demo: true, ..Default::default() }).await;
    // What a partner lead could type as a programme's name, an admin as a milestone's name
    // and a reversal reason.
    app.db
        .execute_unprepared("UPDATE programmes SET name = '=cmd|'' /C calc''!A0 ' || name")
        .await
        .expect("programme names");
    app.db
        .execute_unprepared("UPDATE contracts SET definition = replace(definition, 'Engaged in support', '=1+2')")
        .await
        .expect("milestone name");
    app.db
        .execute_unprepared(
            "UPDATE claims SET reversal_reason = '-2+3, said @someone' WHERE id = (SELECT MIN(id) FROM claims)",
        )
        .await
        .expect("reversal reason");
    backbone::domain::metrics::refresh(&app.db, None).await.expect("refresh");
    let funder = app.login("funder@demo.zone", "demo").await;
    let admin = app.login("admin@demo.zone", "demo").await;

    let metrics = download(&app, &funder, "/exports/metrics.csv?groupBy=programme").await;
    let rows = cells(&metrics);
    assert!(rows.iter().any(|r| r[1].starts_with("'=cmd|' /C calc'!A0 ")), "neutralised: {metrics}");
    assert_no_formula(&metrics);
    // Exact figures: the demo has mean changes below zero; they stay numbers.
    let exact = download(&app, &admin, "/exports/metrics.csv?groupBy=programme").await;
    assert_no_formula(&exact);
    let values: Vec<String> = cells(&exact).into_iter().skip(1).map(|r| r[3].clone()).collect();
    assert!(values.iter().all(|v| !v.starts_with("'-")), "a negative number is never quoted");
    assert!(values.iter().any(|v| v.starts_with('-') && v.parse::<f64>().is_ok()), "negatives shown: {exact}");

    let contract = contract::Entity::find().one(&app.db).await.expect("query").expect("the demo contract").id;
    let lines = download(&app, &admin, &format!("/exports/claims.csv?contract={contract}")).await;
    assert!(cells(&lines).iter().any(|r| r.contains(&"'-2+3, said @someone".to_owned())), "neutralised: {lines}");
    assert_no_formula(&lines);
    let totals = download(&app, &funder, &format!("/exports/claims.csv?contract={contract}")).await;
    assert!(cells(&totals).iter().any(|r| r[0] == "engaged" && r[1] == "'=1+2"), "neutralised: {totals}");
    assert_no_formula(&totals);
}
