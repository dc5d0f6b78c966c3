/// One HTTP response of the monitoring endpoint.
package struct MonitoringResponse: Sendable, Equatable {
    /// HTTP status code.
    package var status: Int
    /// `Content-Type` header value.
    package var contentType: String
    /// The body.
    package var body: [UInt8]

    /// Creates a response.
    package init(status: Int, contentType: String = "text/plain; charset=utf-8", body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    /// A plain-text response.
    package init(status: Int, text: String) {
        self.init(status: status, body: Array(text.utf8))
    }
}

/// What the monitoring endpoint answers, without any networking (the server only carries it):
///
/// - `GET /metrics`: the Prometheus text exposition format (0.0.4), 200.
/// - `GET /health/live`: 200 `live` while the process runs.
/// - `GET /health/ready`: 200 `ready` when `isReady()`, else 503 `not ready`.
/// - `HEAD` is answered like `GET`; other methods get 405, other paths 404. Query strings are ignored.
/// - `/v1/replicated` (with ``replicated``): answered later, by ``ReplicatedEndpoint`` (see ``asyncRoute(for:)``).
package struct MonitoringRoutes: Sendable {
    /// The Prometheus text format's content type.
    package static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

    private let metrics: @Sendable () -> [UInt8]
    private let isReady: @Sendable () -> Bool
    /// `/v1/replicated`, when the bridge publishes its acknowledged positions.
    package let replicated: ReplicatedEndpoint?

    /// Creates the routes.
    /// - Parameters:
    ///   - metrics: the current metrics in Prometheus text format (e.g. `PrometheusCollectorRegistry.emitToBuffer`).
    ///   - isReady: whether the bridge is ready (both clusters answer and the pair runs).
    ///   - replicated: serves `/v1/replicated`; none by default (the path is then 404).
    package init(metrics: @escaping @Sendable () -> [UInt8], isReady: @escaping @Sendable () -> Bool, replicated: ReplicatedEndpoint? = nil) {
        self.metrics = metrics
        self.isReady = isReady
        self.replicated = replicated
    }

    /// The endpoint that answers `uri` asynchronously, if any: `/v1/replicated` when served.
    package func asyncRoute(for uri: String) -> ReplicatedEndpoint? {
        guard let replicated, Self.path(of: uri) == ReplicatedEndpoint.path else { return nil }
        return replicated
    }

    static func path(of uri: String) -> String {
        uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
    }

    /// The response to a request.
    package func respond(method: String, uri: String) -> MonitoringResponse {
        let path = Self.path(of: uri)
        guard ["/metrics", "/health/live", "/health/ready"].contains(path) else {
            return MonitoringResponse(status: 404, text: "not found: try /metrics, /health/live or /health/ready\n")
        }
        guard method == "GET" || method == "HEAD" else {
            return MonitoringResponse(status: 405, text: "method not allowed\n")
        }
        switch path {
        case "/metrics":
            return MonitoringResponse(status: 200, contentType: Self.metricsContentType, body: metrics())
        case "/health/live":
            return MonitoringResponse(status: 200, text: "live\n")
        default:
            return isReady() ? MonitoringResponse(status: 200, text: "ready\n") : MonitoringResponse(status: 503, text: "not ready\n")
        }
    }
}
