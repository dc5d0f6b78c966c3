import Prometheus

/// The Prometheus registry and swift-metrics factory the bridge's metrics go to.
package struct PrometheusSetup: Sendable {
    /// Latency buckets (seconds): 5 ms to 5 min, for cross-region replication latency.
    package static let latencyBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10),
        .seconds(30), .seconds(60), .seconds(300),
    ]

    /// Where metrics are kept; `/metrics` renders it.
    package let registry: PrometheusCollectorRegistry
    /// A swift-metrics factory writing to `registry`, with ``latencyBuckets`` for every timer.
    package let factory: PrometheusMetricsFactory

    /// Creates a fresh registry and its factory.
    package init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = Self.latencyBuckets
        self.factory = factory
    }

    /// Routes serving this registry at `/metrics`, with readiness from `isReady`, and `/v1/replicated` with
    /// `replicated`; `beforeScrape` runs before each rendering (to set gauges sampled only when asked for).
    package func routes(
        isReady: @escaping @Sendable () -> Bool, replicated: ReplicatedEndpoint? = nil, beforeScrape: @escaping @Sendable () -> Void = {}
    ) -> MonitoringRoutes {
        let registry = self.registry
        return MonitoringRoutes(metrics: { beforeScrape(); return registry.emitToBuffer() }, isReady: isReady, replicated: replicated)
    }
}
