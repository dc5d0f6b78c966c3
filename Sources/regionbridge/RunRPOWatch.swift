import Foundation
import Logging
import Reconciliation
import Replication
import ServiceLifecycle
import Topology

/// `run`'s continuous reconciliation (``ContinuousReconciler``) as a service, on a thread of its own
/// (`regionbridge-rpo-watch`): its blocking Postgres and Kafka calls never run on the copy loop or the cooperative
/// pool, and nothing it waits for can stop or slow replication.
struct RPOWatchService: Service, CustomStringConvertible {
    let reconciler: ContinuousReconciler
    let pair: String

    /// `RPOWatchService(pair: <pair>)`: no configuration (the DSN never appears).
    var description: String { "RPOWatchService(pair: \(pair))" }

    /// The service `run` adds next to the bridge, or nil (with the reason logged) when it does not reconcile:
    /// no `reconcile.continuous`, a one-shot `--until-caught-up` copy, or group mode (not supported yet: an instance
    /// only knows the replicated positions of the partitions it owns).
    static func make(
        topology: Topology, untilCaughtUp: Bool, positions: ReplicatedPositions, observer: any ReplicationObserver, logger: Logger
    ) -> RPOWatchService? {
        guard let continuous = topology.reconcile?.continuous, !untilCaughtUp else { return nil }
        guard topology.instances.mode == .single else {
            logger.warning("reconcile.continuous is not supported in group mode yet: pair \(topology.pair) is not reconciled continuously (run regionbridge reconcile instead)")
            return nil
        }
        do {
            let reconciler = try ContinuousReconciler(topology: topology, positions: positions, observer: observer, logger: logger)
            logger.notice("continuous reconciliation of pair \(topology.pair): \(continuous)")
            return RPOWatchService(reconciler: reconciler, pair: topology.pair)
        } catch {
            logger.error("continuous reconciliation of pair \(topology.pair) cannot start: \(error)")
            return nil
        }
    }

    func run() async throws {
        let stop = StopSignal()
        let reconciler = reconciler
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let thread = Thread {
                        reconciler.run(until: stop)
                        continuation.resume()
                    }
                    thread.name = "regionbridge-rpo-watch"
                    thread.stackSize = 8 << 20
                    thread.start()
                }
            } onGracefulShutdown: {
                stop.stop()
            }
        } onCancel: {
            stop.stop()
        }
    }
}
