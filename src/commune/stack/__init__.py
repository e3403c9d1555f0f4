"""What the stack is made of: the bill of materials (bom.py) and the sovereignty map."""
