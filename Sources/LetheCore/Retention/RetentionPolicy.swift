/// How many snapshots of an active tenant to keep, in restic's terms: the newest `keepLast`,
/// plus the newest of each of the last `keepDaily` days, `keepWeekly` ISO weeks and
/// `keepMonthly` months that have a snapshot. A rule left nil keeps nothing by itself; a
/// policy with no rule at all keeps everything (forgetting everything is never a default).
public struct RetentionPolicy: Codable, Equatable, Sendable {
    public var keepLast: Int?
    public var keepDaily: Int?
    public var keepWeekly: Int?
    public var keepMonthly: Int?

    /// The brief's example: 7 daily, 4 weekly, 3 monthly.
    public static let standard = RetentionPolicy(keepLast: nil, keepDaily: 7, keepWeekly: 4, keepMonthly: 3)

    public init(keepLast: Int? = nil, keepDaily: Int? = nil, keepWeekly: Int? = nil, keepMonthly: Int? = nil) {
        self.keepLast = keepLast
        self.keepDaily = keepDaily
        self.keepWeekly = keepWeekly
        self.keepMonthly = keepMonthly
    }

    /// True when no rule is set, which means: keep every snapshot.
    public var keepsEverything: Bool {
        keepLast == nil && keepDaily == nil && keepWeekly == nil && keepMonthly == nil
    }

    func validate() -> String? {
        for (name, value) in [("keepLast", keepLast), ("keepDaily", keepDaily), ("keepWeekly", keepWeekly), ("keepMonthly", keepMonthly)] {
            if let value, value < 0 { return "retention.\(name) must be 0 or more" }
        }
        return nil
    }

    /// `last 3, daily 7, weekly 4, monthly 3`, or `keep everything`.
    public var summary: String {
        if keepsEverything { return "keep everything" }
        return [("last", keepLast), ("daily", keepDaily), ("weekly", keepWeekly), ("monthly", keepMonthly)]
            .compactMap { name, value in value.map { "\(name) \($0)" } }
            .joined(separator: ", ")
    }
}
