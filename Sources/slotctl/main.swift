print("slotctl")
