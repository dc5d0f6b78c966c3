import Foundation
import Monitoring
import Prometheus
import Replication
import XCTest

/// The continuous reconciliation's metrics as Prometheus serves them, without servers.
final class RPOMetricsTests: XCTestCase {
    private let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func testEachCheckSetsEveryGaugeAndACurrencyNoLongerAtRiskGoesBackToZero() {
        let prometheus = PrometheusSetup()
        let metrics = RPOMetrics(pair: "p", factory: prometheus.factory)
        let text = { String(decoding: prometheus.registry.emitToBuffer(), as: UTF8.self) }
        XCTAssertFalse(text().contains("regionbridge_rpo_"), "no series before the first check")

        let risk = RPOAtRisk(payments: 3, amounts: ["EUR": "12.50", "USD": "5.00"], eventIDs: [], notReplicated: 3, neverPublished: 0)
        metrics.rpoChecked(RPOCheckResult(
            at: t0, atRisk: risk, violation: RPOAtRisk(), oldestAtRisk: t0.addingTimeInterval(-42), verifiedUntil: t0.addingTimeInterval(-42),
            durationSeconds: 0.25))
        for line in [
            #"regionbridge_rpo_payments_at_risk{pair="p"} 3.0"#,
            #"regionbridge_rpo_amount_at_risk{pair="p",currency="EUR"} 12.5"#,
            #"regionbridge_rpo_amount_at_risk{pair="p",currency="USD"} 5.0"#,
            #"regionbridge_rpo_oldest_at_risk_seconds{pair="p"} 42.0"#,
            #"regionbridge_rpo_verified_until_timestamp_seconds{pair="p"} 1799999958.0"#,
            #"regionbridge_rpo_check_duration_seconds{pair="p"} 0.25"#,
            #"regionbridge_rpo_last_success_timestamp_seconds{pair="p"} 1800000000.0"#,
            #"regionbridge_postgres_reachable{pair="p"} 1.0"#,
        ] {
            XCTAssertTrue(text().contains(line + "\n"), "\(line) in:\n\(text())")
        }

        // Nothing at risk any more; USD not even in the window: both currencies read 0.
        metrics.rpoChecked(RPOCheckResult(
            at: t0.addingTimeInterval(30), atRisk: RPOAtRisk(amounts: ["EUR": "0"]), violation: RPOAtRisk(), oldestAtRisk: nil,
            verifiedUntil: t0.addingTimeInterval(30), durationSeconds: 0.5))
        for line in [
            #"regionbridge_rpo_payments_at_risk{pair="p"} 0.0"#,
            #"regionbridge_rpo_amount_at_risk{pair="p",currency="EUR"} 0.0"#,
            #"regionbridge_rpo_amount_at_risk{pair="p",currency="USD"} 0.0"#,
            #"regionbridge_rpo_oldest_at_risk_seconds{pair="p"} 0.0"#,
            #"regionbridge_rpo_verified_until_timestamp_seconds{pair="p"} 1800000030.0"#,
        ] {
            XCTAssertTrue(text().contains(line + "\n"), "\(line) in:\n\(text())")
        }
        metrics.postgresReachable(false)
        XCTAssertTrue(text().contains(#"regionbridge_postgres_reachable{pair="p"} 0.0"# + "\n"), text())
    }
}
