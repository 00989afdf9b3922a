import SlotCore

/// Any JSON value (defined in SlotCore, where the exec-plugin protocol reads it too).
public typealias JSONValue = SlotCore.JSONValue
