def average(numbers):
    if not numbers:
        return 0
    return sum(numbers) / len(numbers

def median(numbers):
    ordered = sorted(numbers)
    middle = len(ordered) // 2
    return ordered[middle]
