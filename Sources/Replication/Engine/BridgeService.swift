import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Work that runs next to the engine on a thread of its own (Failover's consumer-group offset sync): ``run(until:)``
/// for as long as the engine runs, then, unless the service group was cancelled, one ``finalRound()`` after the
/// engine returned, so that what it writes reflects where the run ended.
package protocol EngineCompanion: Sendable {
    /// The name of the companion's thread (`regionbridge-groups`).
    var threadName: String { get }
    /// Works until `stop` is set; failures are the companion's to log and retry.
    func run(until stop: StopSignal)
    /// One last round after the engine stopped.
    func finalRound()
}

/// Runs a `ReplicationEngine` (and its companions) as a swift-service-lifecycle `Service`.
///
/// The engine's blocking loop runs on a dedicated thread, never on the cooperative pool.
/// Graceful shutdown (SIGTERM, SIGINT through a `ServiceGroup`) sets the engine's stop signal:
/// it stops reading, drains the writes in flight and returns. Cancellation does the same: when another
/// service of the group fails, the group cancels its services, and the engine must not run on alone.
package struct BridgeService: Service, CustomStringConvertible {
    private let engine: ReplicationEngine
    private let companion: (any EngineCompanion)?
    private let onFinish: @Sendable ([PartitionSummary]) -> Void

    /// Creates the service.
    /// - Parameters:
    ///   - engine: the engine to run.
    ///   - companion: work to run next to the engine for as long as it runs, if any.
    ///   - onFinish: called with the per-partition summary when the engine returns without error.
    package init(
        engine: ReplicationEngine, companion: (any EngineCompanion)? = nil,
        onFinish: @escaping @Sendable ([PartitionSummary]) -> Void = { _ in }
    ) {
        self.engine = engine
        self.companion = companion
        self.onFinish = onFinish
    }

    /// Runs until caught up (if asked), stopped, or failed.
    /// - Throws: `ReplicationError`.
    package func run() async throws {
        let stop = StopSignal()
        let engine = self.engine
        let companion = self.companion
        let syncStop = StopSignal()
        async let syncing: Void = onDedicatedThread(name: companion?.threadName ?? "regionbridge-companion") { () throws(ReplicationError) in
            companion?.run(until: syncStop)
        }
        let outcome: Result<[PartitionSummary], ReplicationError>
        do {
            outcome = .success(try await withTaskCancellationHandler {
                try await withGracefulShutdownHandler {
                    try await onDedicatedThread(name: "regionbridge-engine") { () throws(ReplicationError) in
                        try engine.run(until: stop)
                    }
                } onGracefulShutdown: {
                    stop.stop()
                }
            } onCancel: {
                stop.stop()
                syncStop.stop()
            })
        } catch let error as ReplicationError {
            outcome = .failure(error)
        }
        syncStop.stop()
        try await syncing
        let summaries = try outcome.get()
        // A last round, so that the checkpoints reflect where the run ended; not when the group was cancelled
        // (another service failed), which wants everything to stop now.
        if let companion, !Task.isCancelled {
            try await onDedicatedThread(name: companion.threadName) { () throws(ReplicationError) in
                companion.finalRound()
            }
        }
        onFinish(summaries)
    }

    /// `BridgeService`: no configuration (services are logged with their description).
    package var description: String { "BridgeService" }
}

/// Runs a blocking function on its own thread and waits for it without blocking the cooperative pool.
package func onDedicatedThread<T: Sendable>(name: String, _ body: @escaping @Sendable () throws(ReplicationError) -> T) async throws(ReplicationError) -> T {
    let result: Result<T, ReplicationError> = await withCheckedContinuation { continuation in
        let thread = Thread {
            Thread.current.threadDictionary[dedicatedThreadKey] = name
            do throws(ReplicationError) {
                continuation.resume(returning: .success(try body()))
            } catch {
                continuation.resume(returning: .failure(error))
            }
        }
        thread.name = name
        thread.stackSize = 8 << 20
        thread.start()
    }
    return try result.get()
}

/// Runs a blocking loop on its own thread until `stop` is set, and waits for it without blocking the cooperative
/// pool; once `stop` is set, waits at most `grace` more. A loop blocked then in a request to a cluster that does not
/// answer ends by itself within that request's timeout, alone: a service's shutdown does not wait for it.
package func onDedicatedThread(name: String, until stop: StopSignal, grace: Duration, _ body: @escaping @Sendable () -> Void) async {
    let resumed = Mutex<CheckedContinuation<Void, Never>?>(nil)
    let resume: @Sendable () -> Void = { resumed.withLock { $0.take() }?.resume() }
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        resumed.withLock { $0 = continuation }
        let thread = Thread {
            Thread.current.threadDictionary[dedicatedThreadKey] = name
            body()
            resume()
        }
        thread.name = name
        thread.stackSize = 8 << 20
        thread.start()
        let watcher = Thread {
            while !stop.isStopped, resumed.withLock({ $0 != nil }) { Thread.sleep(forTimeInterval: 0.05) }
            let deadline = ContinuousClock.now + grace
            while ContinuousClock.now < deadline, resumed.withLock({ $0 != nil }) { Thread.sleep(forTimeInterval: 0.01) }
            resume()
        }
        watcher.name = "\(name)-stop"
        watcher.start()
    }
}

private let dedicatedThreadKey = "regionbridge.dedicated-thread"

/// The name given to ``onDedicatedThread(name:_:)`` when the caller runs on such a thread (e.g.
/// `regionbridge-alerts`), nil on any other thread: lets tests check where blocking work runs.
package var currentDedicatedThreadName: String? {
    Thread.current.threadDictionary[dedicatedThreadKey] as? String
}
