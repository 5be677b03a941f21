/// Counts that read right in the singular: "1 tenant", "3 tenants", "1 entry", "2 entries".
public enum Plural {
    public static func count(_ n: Int, _ noun: String, _ plural: String? = nil) -> String {
        "\(n) \(n == 1 ? noun : plural ?? noun + "s")"
    }
}
