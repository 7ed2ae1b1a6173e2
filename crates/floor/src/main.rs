//! `axum-hello ADDRESS`: answers every request with a small JSON body, on all cores. It is
//! the floor of what an HTTP server in Rust can do here, measured in the same run as Rango.

use axum::routing::any;

#[tokio::main]
async fn main() {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8080".into());
    let app = axum::Router::new().fallback(any(|| async { ([("content-type", "application/json")], r#"{"hello":"world"}"#) }));
    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("axum-hello: cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = axum::serve(listener, app).await {
        eprintln!("axum-hello: {e}");
        std::process::exit(1);
    }
}
