/// Which of a pair's two clusters.
package enum ClusterRole: String, Sendable, Hashable, CaseIterable {
    /// The cluster records are read from.
    case source
    /// The cluster records are written to.
    case target
}
