import Foundation
import Logging
import ServiceLifecycle

/// Runs a `ReplicationEngine` as a swift-service-lifecycle `Service`.
///
/// The engine's blocking loop runs on a dedicated thread, never on the cooperative pool.
/// Graceful shutdown (SIGTERM, SIGINT through a `ServiceGroup`) sets the engine's stop signal:
/// it stops reading, drains the writes in flight and returns.
public struct BridgeService: Service {
    private let engine: ReplicationEngine
    private let onFinish: @Sendable ([PartitionSummary]) -> Void

    /// Creates the service.
    /// - Parameters:
    ///   - engine: the engine to run.
    ///   - onFinish: called with the per-partition summary when the engine returns without error.
    public init(engine: ReplicationEngine, onFinish: @escaping @Sendable ([PartitionSummary]) -> Void = { _ in }) {
        self.engine = engine
        self.onFinish = onFinish
    }

    /// Runs until caught up (if asked), stopped, or failed.
    /// - Throws: `ReplicationError`.
    public func run() async throws {
        let stop = StopSignal()
        let engine = self.engine
        let groupSync = try engine.makeGroupSync()
        let syncStop = StopSignal()
        async let syncing: Void = onDedicatedThread(name: "regionbridge-groups") { () throws(ReplicationError) in
            groupSync.run(until: syncStop)
        }
        let outcome: Result<[PartitionSummary], ReplicationError>
        do {
            outcome = .success(try await withGracefulShutdownHandler {
                try await onDedicatedThread(name: "regionbridge-engine") { () throws(ReplicationError) in
                    try engine.run(until: stop)
                }
            } onGracefulShutdown: {
                stop.stop()
            })
        } catch let error as ReplicationError {
            outcome = .failure(error)
        }
        syncStop.stop()
        try await syncing
        let summaries = try outcome.get()
        // A last round, so that the checkpoints reflect where the run ended.
        try await onDedicatedThread(name: "regionbridge-groups") { () throws(ReplicationError) in
            groupSync.finalSync()
        }
        onFinish(summaries)
    }
}

/// Runs a blocking function on its own thread and waits for it without blocking the cooperative pool.
func onDedicatedThread<T: Sendable>(name: String, _ body: @escaping @Sendable () throws(ReplicationError) -> T) async throws(ReplicationError) -> T {
    let result: Result<T, ReplicationError> = await withCheckedContinuation { continuation in
        let thread = Thread {
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
