import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// A minimal HTTP/1.1 server for ``MonitoringRoutes``, run as a swift-service-lifecycle `Service`
/// (put it in the same `ServiceGroup` as the bridge). It stops on graceful shutdown or cancellation.
public struct MetricsServer: Service, CustomStringConvertible {
    /// Host name or address to listen on. Loopback by default in the topology (`metrics.listen`).
    public let host: String
    /// TCP port.
    public let port: Int
    private let routes: MonitoringRoutes
    private let logger: Logger

    /// Creates the server; nothing listens until `run`.
    public init(host: String, port: Int, routes: MonitoringRoutes, logger: Logger) {
        self.host = host
        self.port = port
        self.routes = routes
        self.logger = logger
    }

    /// `MetricsServer(<host>:<port>)`: what it listens on, nothing else (services are logged with their description).
    public var description: String { "MetricsServer(\(host):\(port))" }

    /// Listens and answers until graceful shutdown or cancellation.
    /// - Throws: when the address cannot be bound (in use, not local, ...).
    public func run() async throws {
        let routes = self.routes
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 64)
            .childChannelOption(.maxMessagesPerRead, value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(RouteHandler(routes: routes))
                }
            }
            .bind(host: host, port: port)
            .get()
        logger.info("metrics and health on http://\(host.contains(":") ? "[\(host)]" : host):\(port) (/metrics, /health/live, /health/ready)")
        try await withTaskCancellationOrGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onCancelOrGracefulShutdown: {
            channel.close(promise: nil)
        }
    }
}

/// Answers each complete request from the routes; closes the connection when the client asked to.
private final class RouteHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let routes: MonitoringRoutes
    private var head: HTTPRequestHead?

    init(routes: MonitoringRoutes) { self.routes = routes }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request):
            head = request
        case .body:
            break
        case .end:
            guard let request = head else { return }
            head = nil
            respond(to: request, context: context)
        }
    }

    private func respond(to request: HTTPRequestHead, context: ChannelHandlerContext) {
        let response = routes.respond(method: request.method.rawValue, uri: request.uri)
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
