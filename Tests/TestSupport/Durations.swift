extension Duration {
    /// The duration in (fractional) seconds, for APIs that take a `TimeInterval`.
    package var timeInterval: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
