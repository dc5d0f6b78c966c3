import Replication
import Synchronization

/// Whether the bridge is ready: both clusters answer and the pair is running. Feeds `/health/ready`.
package final class BridgeReadiness: ReplicationObserver {
    private let sourceUp = Atomic<Bool>(false)
    private let targetUp = Atomic<Bool>(false)
    private let pairRunning = Atomic<Bool>(false)

    /// Creates a readiness that is not ready (nothing answered yet, not running).
    package init() {}

    /// `true` when both clusters answered last and the pair is running.
    package var isReady: Bool {
        sourceUp.load(ordering: .acquiring) && targetUp.load(ordering: .acquiring) && pairRunning.load(ordering: .acquiring)
    }

    package func clusterReachable(_ cluster: ClusterRole, _ reachable: Bool) {
        switch cluster {
        case .source: sourceUp.store(reachable, ordering: .releasing)
        case .target: targetUp.store(reachable, ordering: .releasing)
        }
    }

    package func running(_ running: Bool) {
        pairRunning.store(running, ordering: .releasing)
    }
}
