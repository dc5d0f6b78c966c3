import CoreMetrics
import Metrics
import Synchronization

/// Metrics of the `/v1/replicated` waits (swift-metrics; at `/metrics` with swift-prometheus's factory):
///
/// | metric | type | labels |
/// | --- | --- | --- |
/// | `regionbridge_sync_waits_total` | counter, one per request | pair, outcome (`replicated`, `timeout`, `unavailable`, `not_found`, `bad_request`, `client_gone`) |
/// | `regionbridge_sync_wait_seconds` | histogram: request to answer | pair, outcome |
/// | `regionbridge_sync_wait_timeouts_total` | counter | pair |
/// | `regionbridge_sync_waits_in_flight` | gauge: requests waiting now | pair |
package final class SyncWaitMetrics: Sendable {
    /// Metric names.
    package enum Name {
        package static let waits = "regionbridge_sync_waits_total"
        package static let waitSeconds = "regionbridge_sync_wait_seconds"
        package static let timeouts = "regionbridge_sync_wait_timeouts_total"
        package static let inFlight = "regionbridge_sync_waits_in_flight"
    }

    private let pair: String
    private let factory: any MetricsFactory
    private let counters = Mutex<[String: (Counter, Metrics.Timer)]>([:])
    private let timeouts: Counter
    private let inFlightGauge: Gauge
    private let inFlight = Atomic<Int>(0)

    /// Creates the metrics of one pair.
    package init(pair: String, factory: any MetricsFactory = MetricsSystem.factory) {
        self.pair = pair
        self.factory = factory
        timeouts = Counter(label: Name.timeouts, dimensions: [("pair", pair)], factory: factory)
        inFlightGauge = Gauge(label: Name.inFlight, dimensions: [("pair", pair)], factory: factory)
        inFlightGauge.record(0)
    }

    /// A request starts waiting.
    package func started() {
        let now = inFlight.wrappingAdd(1, ordering: .relaxed).newValue
        inFlightGauge.record(now)
    }

    /// A request that ``started()`` was answered with `outcome` after `waited`.
    package func finished(_ outcome: String, waited: Duration) {
        let now = inFlight.wrappingSubtract(1, ordering: .relaxed).newValue
        inFlightGauge.record(now)
        answered(outcome, waited: waited)
    }

    /// A request answered without waiting (a bad request, say).
    package func answered(_ outcome: String, waited: Duration) {
        let (counter, timer) = counters.withLock { counters in
            if let pair = counters[outcome] { return pair }
            let dimensions = [("pair", pair), ("outcome", outcome)]
            let made = (Counter(label: Name.waits, dimensions: dimensions, factory: factory),
                        Metrics.Timer(label: Name.waitSeconds, dimensions: dimensions, preferredDisplayUnit: .seconds, factory: factory))
            counters[outcome] = made
            return made
        }
        counter.increment()
        timer.recordNanoseconds(max(0, waited.components.seconds * 1_000_000_000 + waited.components.attoseconds / 1_000_000_000))
        if outcome == "timeout" { timeouts.increment() }
    }
}
