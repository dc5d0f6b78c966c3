import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// A minimal HTTP/1.1 server for ``MonitoringRoutes``, run as a swift-service-lifecycle `Service`
/// (put it in the same `ServiceGroup` as the bridge). It stops on graceful shutdown or cancellation.
package struct MetricsServer: Service, CustomStringConvertible {
    /// Host name or address to listen on. Loopback by default in the topology (`metrics.listen`).
    package let host: String
    /// TCP port.
    package let port: Int
    private let routes: MonitoringRoutes
    private let logger: Logger

    /// Creates the server; nothing listens until `run`.
    package init(host: String, port: Int, routes: MonitoringRoutes, logger: Logger) {
        self.host = host
        self.port = port
        self.routes = routes
        self.logger = logger
    }

    /// `MetricsServer(<host>:<port>)`: what it listens on, nothing else (services are logged with their description).
    package var description: String { "MetricsServer(\(host):\(port))" }

    /// Listens and answers until graceful shutdown or cancellation.
    /// - Throws: when the address cannot be bound (in use, not local, ...).
    package func run() async throws {
        let routes = self.routes
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1024)  // many /v1/replicated clients connect at once
            .childChannelOption(.maxMessagesPerRead, value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(RouteHandler(routes: routes))
                }
            }
            .bind(host: host, port: port)
            .get()
        logger.info("metrics and health on http://\(host.contains(":") ? "[\(host)]" : host):\(port) (/metrics, /health/live, /health/ready\(routes.replicated == nil ? "" : ", /v1/replicated"))")
        try await withTaskCancellationOrGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onCancelOrGracefulShutdown: {
            channel.close(promise: nil)
        }
    }
}

/// Answers each complete request from the routes; closes the connection when the client asked to.
///
/// `/v1/replicated` is answered when its future completes; NIO's pipelining handler (in front) holds back the
/// connection's next request until then, so answers keep their order. A connection that closes gives up its wait.
private final class RouteHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Largest request body read (a POST to /v1/replicated); a bigger one is answered 413.
    static let maximumBody = 1 << 20

    private let routes: MonitoringRoutes
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false
    /// Gives up the wait in progress (the connection closed).
    private var cancelPending: (@Sendable () -> Void)?

    init(routes: MonitoringRoutes) { self.routes = routes }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request):
            head = request
            body.removeAll(keepingCapacity: false)
            tooLarge = false
        case .body(let buffer):
            guard routes.asyncRoute(for: head?.uri ?? "") != nil, !tooLarge else { return }
            if body.count + buffer.readableBytes > Self.maximumBody {
                tooLarge = true
                body = []
            } else {
                body.append(contentsOf: buffer.readableBytesView)
            }
        case .end:
            guard let request = head else { return }
            head = nil
            if tooLarge {
                write(MonitoringResponse(status: 413, text: "request body larger than \(Self.maximumBody) bytes\n"), to: request, context: context)
            } else if let endpoint = routes.asyncRoute(for: request.uri) {
                let pending = endpoint.respond(method: request.method.rawValue, uri: request.uri, body: body, on: context.eventLoop)
                body = []
                cancelPending = pending.cancel
                pending.response.assumeIsolated().whenSuccess { [self] response in
                    cancelPending = nil
                    guard context.channel.isActive else { return }
                    write(response, to: request, context: context)
                }
            } else {
                write(routes.respond(method: request.method.rawValue, uri: request.uri), to: request, context: context)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelPending?()
        cancelPending = nil
        context.fireChannelInactive()
    }

    private func write(_ response: MonitoringResponse, to request: HTTPRequestHead, context: ChannelHandlerContext) {
        let keepAlive = request.isKeepAlive
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.count))
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let status = HTTPResponseStatus(statusCode: response.status)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
        if request.method != .HEAD {
            var buffer = context.channel.allocator.buffer(capacity: response.body.count)
            buffer.writeBytes(response.body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            written.whenComplete { _ in bound.value.close(promise: nil) }
        }
    }
}
