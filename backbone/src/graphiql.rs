//! GraphiQL, served from the binary itself.
//!
//! This module holds only the routes for the in-browser GraphQL explorer: the page at
//! `/graphiql` and its vendored assets at `/graphiql/{file}`. Everything lives in
//! `backbone/assets/graphiql/` (see the README there for versions and licences) and is
//! embedded at compile time, so GraphiQL works offline and on networks that cannot reach
//! any CDN. The page talks to `/graphql`, which is mounted elsewhere.

use axum::{
    Router,
    extract::Path,
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::get,
};

/// The GraphiQL page. It loads only the assets below and points GraphiQL at `/graphql`.
const INDEX_HTML: &str = include_str!("../assets/graphiql/index.html");

/// The vendored assets, served at `/graphiql/{name}`: `(name, content type, bytes)`.
const ASSETS: [(&str, &str, &[u8]); 4] = [
    ("react.production.min.js", JAVASCRIPT, include_bytes!("../assets/graphiql/react.production.min.js")),
    ("react-dom.production.min.js", JAVASCRIPT, include_bytes!("../assets/graphiql/react-dom.production.min.js")),
    ("graphiql.min.js", JAVASCRIPT, include_bytes!("../assets/graphiql/graphiql.min.js")),
    ("graphiql.min.css", "text/css; charset=utf-8", include_bytes!("../assets/graphiql/graphiql.min.css")),
];

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

/// The assets never change within one build, so browsers may cache them for a day.
const ASSET_CACHE_CONTROL: &str = "public, max-age=86400";

/// Routes for GraphiQL: `GET /graphiql` (the page) and `GET /graphiql/{file}` (its assets).
pub fn routes() -> Router {
    Router::new().route("/graphiql", get(index)).route("/graphiql/{file}", get(asset))
}

async fn index() -> Html<&'static str> {
    Html(INDEX_HTML)
}

async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some(&(_, content_type, body)) => {
            ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, ASSET_CACHE_CONTROL)], body).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::{Body, to_bytes};
    use axum::http::Request;
    use tower::ServiceExt;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    async fn fetch(uri: &str) -> Result<Response, Box<dyn std::error::Error>> {
        let request = Request::builder().uri(uri).body(Body::empty())?;
        Ok(routes().oneshot(request).await?)
    }

    fn header_of(response: &Response, name: header::HeaderName) -> Option<&str> {
        response.headers().get(name).and_then(|v| v.to_str().ok())
    }

    #[tokio::test]
    async fn index_is_html_pointing_at_graphql() -> TestResult {
        let response = fetch("/graphiql").await?;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header_of(&response, header::CONTENT_TYPE), Some("text/html; charset=utf-8"));
        let body = to_bytes(response.into_body(), usize::MAX).await?;
        let html = std::str::from_utf8(&body)?;
        assert!(html.contains("url: '/graphql'"));
        assert!(!html.contains("://"), "the page must not load anything external");
        for (name, _, _) in ASSETS {
            assert!(html.contains(&format!("/graphiql/{name}")), "page does not load {name}");
        }
        Ok(())
    }

    #[tokio::test]
    async fn assets_are_served_with_their_content_type() -> TestResult {
        for (name, content_type, bytes) in ASSETS {
            let response = fetch(&format!("/graphiql/{name}")).await?;
            assert_eq!(response.status(), StatusCode::OK, "{name}");
            assert_eq!(header_of(&response, header::CONTENT_TYPE), Some(content_type));
            assert_eq!(header_of(&response, header::CACHE_CONTROL), Some(ASSET_CACHE_CONTROL));
            let body = to_bytes(response.into_body(), usize::MAX).await?;
            assert_eq!(body.len(), bytes.len(), "{name}");
        }
        let css = fetch("/graphiql/graphiql.min.css").await?;
        assert_eq!(header_of(&css, header::CONTENT_TYPE), Some("text/css; charset=utf-8"));
        Ok(())
    }

    #[tokio::test]
    async fn unknown_asset_is_not_found() -> TestResult {
        let response = fetch("/graphiql/nope.js").await?;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        Ok(())
    }
}
