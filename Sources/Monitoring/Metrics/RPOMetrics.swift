import CoreMetrics
import Foundation
import Metrics
import Synchronization

/// The continuous reconciliation's metrics through swift-metrics: an ``RPOObserver`` that records each
/// check (``RPOObserver/rpoChecked(_:)``) and whether Postgres answered.
///
/// | metric | type | labels |
/// | --- | --- | --- |
/// | `regionbridge_rpo_payments_at_risk` | gauge | pair |
/// | `regionbridge_rpo_amount_at_risk` | gauge | pair, currency (with `reconcile.currency`); only with `reconcile.amount` |
/// | `regionbridge_rpo_oldest_at_risk_seconds` | gauge | pair |
/// | `regionbridge_rpo_verified_until_timestamp_seconds` | gauge | pair |
/// | `regionbridge_rpo_check_duration_seconds` | gauge | pair |
/// | `regionbridge_rpo_last_success_timestamp_seconds` | gauge | pair |
/// | `regionbridge_postgres_reachable` | gauge, 1 or 0 | pair |
///
/// Every series appears with the first report, so a bridge that does not reconcile continuously exports none; in
/// group mode only the instance that holds the pair's watch exports them.
/// A currency once seen keeps its amount gauge, set to 0 when none of its payments is at risk.
package final class RPOMetrics: RPOObserver {
    /// Metric names.
    package enum Name {
        package static let paymentsAtRisk = "regionbridge_rpo_payments_at_risk"
        package static let amountAtRisk = "regionbridge_rpo_amount_at_risk"
        package static let oldestAtRisk = "regionbridge_rpo_oldest_at_risk_seconds"
        package static let verifiedUntil = "regionbridge_rpo_verified_until_timestamp_seconds"
        package static let checkDuration = "regionbridge_rpo_check_duration_seconds"
        package static let lastSuccess = "regionbridge_rpo_last_success_timestamp_seconds"
        package static let postgresReachable = "regionbridge_postgres_reachable"
    }

    private struct Series {
        let payments: Gauge
        let oldest: Gauge
        let verifiedUntil: Gauge
        let duration: Gauge
        let lastSuccess: Gauge
        var amounts: [String: Gauge] = [:]
    }

    /// The pair named in every metric's `pair` label.
    package let pair: String
    private let factory: any MetricsFactory
    private let series = Mutex<Series?>(nil)
    private let reachable = Mutex<Gauge?>(nil)

    /// Creates the metrics of one pair.
    package init(pair: String, factory: any MetricsFactory = MetricsSystem.factory) {
        self.pair = pair
        self.factory = factory
    }

    package func rpoChecked(_ result: RPOCheckResult) {
        postgresReachable(true)
        series.withLock { series in
            let dimensions = [("pair", pair)]
            var made = series ?? Series(
                payments: Gauge(label: Name.paymentsAtRisk, dimensions: dimensions, factory: factory),
                oldest: Gauge(label: Name.oldestAtRisk, dimensions: dimensions, factory: factory),
                verifiedUntil: Gauge(label: Name.verifiedUntil, dimensions: dimensions, factory: factory),
                duration: Gauge(label: Name.checkDuration, dimensions: dimensions, factory: factory),
                lastSuccess: Gauge(label: Name.lastSuccess, dimensions: dimensions, factory: factory))
            made.payments.record(result.atRisk.payments)
            made.oldest.record(result.oldestAtRisk.map { max(0, result.at.timeIntervalSince($0)) } ?? 0)
            made.verifiedUntil.record(result.verifiedUntil.timeIntervalSince1970)
            made.duration.record(result.durationSeconds)
            made.lastSuccess.record(result.at.timeIntervalSince1970)
            if let amounts = result.atRisk.amounts {
                for currency in amounts.keys where made.amounts[currency] == nil {
                    let labels = currency.isEmpty ? dimensions : dimensions + [("currency", currency)]
                    made.amounts[currency] = Gauge(label: Name.amountAtRisk, dimensions: labels, factory: factory)
                }
                for (currency, gauge) in made.amounts {
                    gauge.record(amounts[currency].flatMap { Double($0) } ?? 0)
                }
            }
            series = made
        }
    }

    /// An instance that lets the watch go (group mode: another instance leads the group now) stops exporting the
    /// series: a scrape of it shows no stale figure next to the live ones of the instance that holds the watch.
    package func watchHeld(_ held: Bool) {
        guard !held else { return }
        series.withLock { series in
            guard let made = series else { return }
            for gauge in [made.payments, made.oldest, made.verifiedUntil, made.duration, made.lastSuccess] + Array(made.amounts.values) {
                gauge.destroy()
            }
            series = nil
        }
        reachable.withLock { gauge in
            gauge?.destroy()
            gauge = nil
        }
    }

    package func postgresReachable(_ reachable: Bool) {
        self.reachable.withLock { gauge in
            if gauge == nil { gauge = Gauge(label: Name.postgresReachable, dimensions: [("pair", pair)], factory: factory) }
            return gauge!
        }.record(reachable ? 1 : 0)
    }
}
