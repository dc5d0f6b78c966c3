/// When a source partition's log end reached which offset, as the bridge saw it: the clock for seconds behind.
///
/// Seconds behind are measured from the bridge's own observations, not from record timestamps, which
/// producers set (a backfill, a replay or a wrong clock would read as years of lag, and a clock ahead would hide
/// real lag). The bridge samples the log end about once a second; a position the target has reached was the
/// log end at some moment, and every record after it was appended later. So the time behind is now minus the
/// moment the log end passed the target's position, interpolated between the two samples around it (as
/// kafka-lag-exporter estimates a consumer's time lag).
///
/// Memory is bounded: samples are kept only when the end moved, and when `capacity` is reached every other
/// old sample is dropped, so a partition behind for a long time keeps a coarser history instead of a longer one.
package struct EndOffsetHistory: Sendable, Equatable {
    /// One observation: the log end `end` seen at `time` (seconds on any monotonic clock).
    package struct Sample: Sendable, Equatable {
        /// When, in seconds on the caller's monotonic clock.
        package var time: Double
        /// The log end offset then.
        package var end: Int64

        /// Creates a sample.
        package init(time: Double, end: Int64) {
            self.time = time
            self.end = end
        }
    }

    /// Samples, oldest first; ends never decrease.
    package private(set) var samples: [Sample] = []
    /// Most samples kept.
    package let capacity: Int

    /// Creates an empty history keeping at most `capacity` samples (at least 4). Default 512.
    package init(capacity: Int = 512) {
        self.capacity = max(4, capacity)
    }

    /// The log end was `end` at `time`. An end lower than the last one (a truncated or re-created log) starts
    /// the history again.
    package mutating func record(end: Int64, at time: Double) {
        if let last = samples.last {
            if end == last.end { return }
            if end < last.end { samples.removeAll(keepingCapacity: true) }
        }
        if samples.count >= capacity {
            // Keep the newest half as it is, thin the older half.
            let half = samples.count / 2
            var thinned: [Sample] = []
            thinned.reserveCapacity(capacity)
            for index in stride(from: 0, to: half, by: 2) { thinned.append(samples[index]) }
            thinned.append(contentsOf: samples[half...])
            samples = thinned
        }
        samples.append(Sample(time: time, end: end))
    }

    /// Seconds the target is behind at `now` when every source offset below `position` is in the target:
    /// 0 when `position` is at or past the last end seen; otherwise now minus the moment the log end passed
    /// `position`. When the end was already past `position` at the oldest sample, that sample's age (a lower bound).
    package func secondsBehind(position: Int64, now: Double) -> Double {
        guard let last = samples.last, position < last.end else { return 0 }
        // The first sample whose end is past the position: the log end passed it between that sample and the one before.
        var low = 0
        var high = samples.count - 1
        while low < high {
            let middle = (low + high) / 2
            if samples[middle].end > position { high = middle } else { low = middle + 1 }
        }
        let after = samples[low]
        guard low > 0 else { return max(0, now - after.time) }
        let before = samples[low - 1]
        // The record at `position` arrived when the end became `position + 1`.
        let fraction = Double(position + 1 - before.end) / Double(after.end - before.end)
        let passed = before.time + fraction * (after.time - before.time)
        return max(0, now - passed)
    }
}
