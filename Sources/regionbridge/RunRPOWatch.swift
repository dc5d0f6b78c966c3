import Foundation
import Logging
import Monitoring
import Reconciliation
import Replication
import ServiceLifecycle
import Synchronization
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
    /// no `reconcile.continuous`, or a one-shot `--until-caught-up` copy. In group mode every instance runs it and
    /// the one that leads the group (`state`) checks, for every partition.
    static func make(
        clients: ClusterClients, untilCaughtUp: Bool, positions: ReplicatedPositions, state: ReplicationState,
        observer: any ReplicationObserver, rpoObserver: any RPOObserver, logger: Logger
    ) -> RPOWatchService? {
        let topology = clients.topology
        guard let continuous = topology.reconcile?.continuous, !untilCaughtUp else { return nil }
        do {
            let reconciler = try ContinuousReconciler(
                clients: clients, positions: positions, observer: observer, rpoObserver: rpoObserver,
                leads: { state.leadsGroupSync }, readsTarget: topology.instances.mode == .group, logger: logger)
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
        let finished = ResumeOnce()
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withTaskGroup(of: Void.self) { group in
                    group.addTask {
                        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                            finished.set(continuation)
                            let thread = Thread {
                                reconciler.run(until: stop)
                                finished.resume()
                            }
                            thread.name = "regionbridge-rpo-watch"
                            thread.stackSize = 8 << 20
                            thread.start()
                        }
                    }
                    // The watchdog: a check stuck on a Postgres that never answers still raises postgres_unreachable;
                    // and at shutdown such a check is waited for 5 s at most (it cannot hold up the process's exit).
                    group.addTask {
                        while !stop.isStopped {
                            try? await Task.sleep(for: .seconds(1))
                            reconciler.reportStall()
                        }
                        let deadline = ContinuousClock.now + .seconds(5)
                        while !finished.isResumed, ContinuousClock.now < deadline {
                            try? await Task.sleep(for: .milliseconds(50))
                        }
                        finished.resume()
                    }
                    await group.waitForAll()
                }
            } onGracefulShutdown: {
                stop.stop()
            }
        } onCancel: {
            stop.stop()
        }
    }
}

/// Resumes a continuation exactly once, whoever comes first (the watch thread ending, or the shutdown deadline);
/// a resume before the continuation is set resumes it as soon as it is.
final class ResumeOnce: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<Void, Never>?, resumed: Bool)>((nil, false))

    var isResumed: Bool { state.withLock { $0.resumed } }

    func set(_ continuation: CheckedContinuation<Void, Never>) {
        let resumeNow = state.withLock { state -> Bool in
            if state.resumed { return true }
            state.continuation = continuation
            return false
        }
        if resumeNow { continuation.resume() }
    }

    func resume() {
        let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.resumed else { return nil }
            state.resumed = true
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume()
    }
}
