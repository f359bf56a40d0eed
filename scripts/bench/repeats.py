"""The tables of benchmarks run with REPEATS=N (gpt_sweep.sh, ops.sh,
train_vs_torch.sh): each row's dlt run and peer runs one after the other, N
times; a value is the median of its runs, a dlt/torch ratio the median of the
N pairs' ratios with their range (a pair shares the machine's drift)."""
import statistics

median = statistics.median


def note(n):
    """What to print between a table's settings and the table: a blank line,
    after a line that says how the cells were made when there are repeats."""
    return f"median of {n} runs a side; dlt/torch: median (lowest-highest of the {n} pairs)\n" if n > 1 else ""


def ratio_cell(ratios):
    """'1.26x' for one pair, '1.26x (1.25-1.27)' for several."""
    ratios = list(ratios)
    cell = f"{median(ratios):.2f}x"
    return cell + (f" ({min(ratios):.2f}-{max(ratios):.2f})" if len(ratios) > 1 else "")
