//! The socket side: a small pool of threads answering HTTP with `tiny_http`, handing each
//! request to an [`Api`]. No HTTP parsing by hand.

use std::io::Read as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::api::{Api, Request};

/// Largest request body read (form-encoded queries are small).
const MAX_BODY: u64 = 8 << 20;

/// A running HTTP server.
pub struct HttpServer {
    server: Arc<tiny_http::Server>,
    addr: SocketAddr,
    workers: Vec<JoinHandle<()>>,
}

impl HttpServer {
    /// Binds `addr` (port 0 picks a free one) and serves `api` on `threads` threads.
    pub fn start(
        addr: &str,
        api: Arc<Api>,
        threads: usize,
    ) -> Result<HttpServer, Box<dyn std::error::Error + Send + Sync>> {
        let server = Arc::new(tiny_http::Server::from_listener(listen(addr)?, None)?);
        let addr = server
            .server_addr()
            .to_ip()
            .ok_or("listening on a non-IP address")?;
        let workers = (0..threads.max(1))
            .map(|_| {
                let server = Arc::clone(&server);
                let api = Arc::clone(&api);
                std::thread::spawn(move || {
                    while let Ok(req) = server.recv() {
                        answer(&api, req);
                    }
                })
            })
            .collect();
        Ok(HttpServer {
            server,
            addr,
            workers,
        })
    }

    /// The address actually bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting and waits for the workers.
    pub fn stop(self) {
        for _ in &self.workers {
            self.server.unblock();
        }
        for w in self.workers {
            let _ = w.join();
        }
    }
}

/// Binds a listener with `TCP_NODELAY` set (accepted sockets inherit it on Linux), so a
/// response written as headers then body is not held back by Nagle's algorithm waiting
/// for the client's delayed ACK (a 40 ms stall per request otherwise).
fn listen(addr: &str) -> Result<std::net::TcpListener, Box<dyn std::error::Error + Send + Sync>> {
    use std::net::ToSocketAddrs;
    let mut last_err: Option<std::io::Error> = None;
    for a in addr.to_socket_addrs()? {
        let sock = socket2::Socket::new(
            socket2::Domain::for_address(a),
            socket2::Type::STREAM,
            Some(socket2::Protocol::TCP),
        )?;
        let attempt = (|| {
            sock.set_reuse_address(true)?;
            sock.set_nodelay(true)?;
            sock.bind(&a.into())?;
            sock.listen(1024)
        })();
        match attempt {
            Ok(()) => return Ok(sock.into()),
            Err(e) => last_err = Some(e),
        }
    }
    Err(match last_err {
        Some(e) => Box::new(e),
        None => format!("{addr}: no address to listen on").into(),
    })
}

fn header<'a>(req: &'a tiny_http::Request, name: &'static str) -> Option<&'a str> {
    req.headers()
        .iter()
        .find(|h| h.field.equiv(name))
        .map(|h| h.value.as_str())
}

fn answer(api: &Api, mut req: tiny_http::Request) {
    let mut body = Vec::new();
    if let Err(e) = req.as_reader().take(MAX_BODY).read_to_end(&mut body) {
        let _ = req.respond(tiny_http::Response::from_string(e.to_string()).with_status_code(400));
        return;
    }
    let method = req.method().as_str().to_string();
    let url = req.url().to_string();
    let ctype = header(&req, "Content-Type").map(str::to_string);
    let accept = header(&req, "Accept").map(str::to_string);
    let r = Request::new(&method, &url, ctype.as_deref(), &body, accept.as_deref());
    let reply = api.handle(&r);
    let mut resp = tiny_http::Response::from_data(reply.body).with_status_code(reply.status);
    if let Ok(h) = tiny_http::Header::from_bytes("Content-Type", reply.content_type.as_bytes()) {
        resp.add_header(h);
    }
    let _ = req.respond(resp);
}
