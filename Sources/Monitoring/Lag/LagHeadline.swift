import Foundation

extension LagReport {
    /// The first line of `regionbridge lag`: what the target would lose if the source were lost now, how far
    /// behind each topic is (records, seconds with their basis, the worst partition), the heartbeat, and the first
    /// thing to do. The bridge's own topics are not counted as data.
    /// - Parameter maxLagSeconds: the pair's limit (`drill.max_lag_seconds`) for seconds behind and heartbeat age.
    package func headline(maxLagSeconds: Double) -> String {
        let topics = TopicLag.group(partitions)
        let data = topics.filter { !$0.isBridgeTopic }
        let records = data.reduce(Int64(0)) { $0 + $1.recordsBehind }
        // A partition behind whose age is unknown cannot be shown to be within the limit.
        let worst = data.flatMap(\.partitions).compactMap { $0.recordsBehind > 0 ? ($0.secondsBehind ?? .infinity) : nil }.max()
        let risk = records == 0 ? "nothing" : LagWords.count(records, "record") + " of \(LagWords.count(data.filter { $0.recordsBehind > 0 }.count, "topic"))"
        var parts = [
            "at risk if \(sourceRegion) were lost now: \(risk)",
            "behind: " + LagWords.dataBehind(topics),
        ]
        var stale: Double?
        if let heartbeat {
            if !heartbeat.exists {
                parts.append("heartbeat: no \(heartbeat.topic) in \(targetRegion) yet")
            } else if let age = heartbeat.age(at: at) {
                parts.append("heartbeat: \(LagWords.roughSeconds(age)) old")
                if age > maxLagSeconds { stale = age }
            } else {
                parts.append("heartbeat: none in \(heartbeat.topic)")
            }
        }
        let first: String
        if let stale {
            first = "check that the bridge runs and copies: the newest heartbeat in \(targetRegion) is \(LagWords.roughSeconds(stale)) old"
        } else if let worst, worst > maxLagSeconds {
            let over = worst.isFinite ? "over max_lag_seconds \(LagWords.roughSeconds(maxLagSeconds))" : "of unknown age"
            first = "copy the backlog (\(over)): is the bridge running? "
                + "regionbridge lag --watch shows whether it shrinks"
        } else if records > 0 {
            first = "nothing: within max_lag_seconds \(LagWords.roughSeconds(maxLagSeconds))"
        } else {
            first = "nothing to do"
        }
        parts.append("first: \(first)")
        return "pair \(pair) (\(sourceRegion) -> \(targetRegion)): " + parts.joined(separator: "; ")
    }
}
