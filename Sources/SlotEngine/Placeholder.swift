public enum SlotEnginePlaceholder {}
