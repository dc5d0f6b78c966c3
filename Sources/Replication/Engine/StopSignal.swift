import Synchronization

/// Tells a running engine to stop reading, drain its writes and return. Safe to set from any thread.
package final class StopSignal: Sendable {
    private let flag = Atomic<Bool>(false)

    /// Creates a signal that is not set.
    package init() {}

    /// Asks the engine to stop.
    package func stop() { flag.store(true, ordering: .releasing) }

    /// `true` once `stop()` was called.
    package var isStopped: Bool { flag.load(ordering: .acquiring) }
}
