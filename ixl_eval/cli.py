"""The ``ixl-eval`` command: thin verbs over the package's functions.

Every domain error (:class:`ixl_eval.exceptions.IxlEvalError`) is printed plainly and turned into
a non-zero exit code; imports are lazy so ``ixl-eval --help`` is instant.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ixl-eval",
        description="Evaluation toolkit of Insieme per il lavoro: data checks, synthetic data, report runs.",
    )
    sub = p.add_subparsers(dest="verb", required=True, metavar="VERB")

    s = sub.add_parser("synth", help="write a calibrated synthetic data directory (and its truth.json)")
    s.add_argument("--out", type=Path, default=None, help="output directory (default: the bundled data path)")
    s.add_argument("--seed", type=int, default=20240430, help="random seed (same seed, same data)")
    s.add_argument("--scale", type=float, default=1.0, help="multiply the population (e.g. 100 for ~1M people)")
    s.add_argument("--format", choices=["csv", "csv-it", "parquet", "xlsx"], default="csv",
                   help="file format (csv-it: ';' separator, dd/mm/yyyy dates)")
    s.add_argument("--force", action="store_true", help="overwrite a non-empty output directory")

    v = sub.add_parser("validate", help="check a data directory against the data contract")
    v.add_argument("data_dir", type=Path, metavar="DATA_DIR")
    v.add_argument("--max-rows", type=int, default=50, help="findings shown per rule (all are counted)")
    v.add_argument("--json", action="store_true", help="print findings as JSON")
    _limit_option(v)

    r = sub.add_parser("run", help="validate data and params, execute the notebooks, write outputs/<run-id>/")
    r.add_argument("params", type=Path, metavar="PARAMS.yaml")
    r.add_argument("--data", type=Path, default=None, help="data directory (overrides the parameter set)")
    r.add_argument("--jobs", type=int, default=None, help="notebooks run in parallel (default: CPU cores)")
    r.add_argument("--outputs", type=Path, default=None, help="where run folders go (default: outputs/)")
    r.add_argument("--compare-to", type=Path, default=None,
                   help="earlier run folder to compare with (default: latest earlier run of the same params)")
    r.add_argument("--no-compare", action="store_true", help="do not compare with an earlier run")
    _limit_option(r)

    pa = sub.add_parser("params", help="parameter sets: check a file, print the documentation")
    psub = pa.add_subparsers(dest="params_verb", required=True, metavar="ACTION")
    pc = psub.add_parser("check", help="validate a parameter set (and its fit to the data)")
    pc.add_argument("file", type=Path, metavar="FILE")
    pc.add_argument("--data", type=Path, default=None, help="data directory to check the parameters against")
    _limit_option(pc)
    pd_ = psub.add_parser("docs", help="print the parameter reference (Markdown)")
    pd_.add_argument("--out", type=Path, default=None, help="write to this file instead of stdout")

    st = sub.add_parser("site", help="several cities: a site's file of aggregates (docs/multi-site.md)")
    ssub = st.add_subparsers(dest="site_verb", required=True, metavar="ACTION")
    se = ssub.add_parser("export", help="write this site's aggregates (no records) to a zip file")
    se.add_argument("params", type=Path, metavar="PARAMS.yaml")
    se.add_argument("--data", type=Path, required=True, help="this site's data directory")
    se.add_argument("--site", required=True, help="site name (letters, digits, '-', '_')")
    se.add_argument("--out", type=Path, required=True, help="the zip file to write (never overwritten)")
    ss = ssub.add_parser("show", help="print, in words, what a site file sends")
    ss.add_argument("file", type=Path, metavar="FILE")
    ss.add_argument("--lang", choices=["it", "en"], default="en")

    po = sub.add_parser("pool", help="pool the files of several sites into one run folder")
    po.add_argument("params", type=Path, metavar="PARAMS.yaml")
    po.add_argument("site_files", type=Path, nargs="+", metavar="SITE_FILE")
    po.add_argument("--outputs", type=Path, default=None, help="where run folders go (default: outputs/)")

    c = sub.add_parser("contract", help="the data contract")
    csub = c.add_subparsers(dest="contract_verb", required=True, metavar="ACTION")
    cd = csub.add_parser("docs", help="print the data contract (Markdown)")
    cd.add_argument("--out", type=Path, default=None, help="write to this file instead of stdout")
    return p


def _limit_option(parser) -> None:
    parser.add_argument("--limit", action="append", default=[], metavar="NAME=VALUE",
                        help="raise an input limit, e.g. --limit file_mb=1024 --limit rows=10000000 "
                             "(names and defaults: docs/limits.md)")


def _write_or_print(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        print(f"wrote {out}")


def _dispatch(args) -> int:
    if getattr(args, "limit", None):
        from . import limits

        limits.use(limits.parse_overrides(args.limit))  # also inherited by the run's kernels
    if args.verb == "synth":
        from .synth import main_synth

        return main_synth(out=args.out, seed=args.seed, scale=args.scale, fmt=args.format, force=args.force)
    if args.verb == "validate":
        from .validate import main_validate

        return main_validate(args.data_dir, max_rows=args.max_rows, as_json=args.json)
    if args.verb == "run":
        from .runner import main_run

        return main_run(
            args.params,
            data_dir=args.data,
            jobs=args.jobs,
            outputs_dir=args.outputs,
            compare_to=None if args.no_compare else args.compare_to,
            compare=not args.no_compare,
        )
    if args.verb == "params":
        from . import params

        if args.params_verb == "check":
            return params.main_check(args.file, data_dir=args.data)
        _write_or_print(params.render_docs(), args.out)
        return 0
    if args.verb == "site":
        from . import federated

        if args.site_verb == "export":
            m = federated.export_site(args.params, args.data, args.site, args.out)
            print(f"wrote {args.out} (site {m['site']}, {len(m['members'])} tables of aggregates); "
                  f"see what it sends with: ixl-eval site show {args.out}")
            return 0
        sys.stdout.write(federated.describe_site(args.file, lang=args.lang))
        return 0
    if args.verb == "pool":
        from . import federated

        run_dir = federated.pool(args.params, args.site_files, outputs_dir=args.outputs)
        print(f"wrote {run_dir}")
        return 0
    if args.verb == "contract":
        from .validate import render_contract_docs

        _write_or_print(render_contract_docs(), args.out)
        return 0
    raise AssertionError(args.verb)  # argparse rejects unknown verbs before this


def _absolute_paths(args) -> None:
    """Paths typed on the command line are relative to where the user is, not to the repository
    (which is what relative paths inside a parameter set are relative to)."""
    for name, value in vars(args).items():
        if isinstance(value, Path):
            setattr(args, name, value.expanduser().absolute())


def main(argv: list[str] | None = None) -> int:
    from .exceptions import IxlEvalError

    args = build_parser().parse_args(argv)
    _absolute_paths(args)
    try:
        return int(_dispatch(args) or 0)
    except IxlEvalError as e:
        print(f"ixl-eval: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("ixl-eval: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
