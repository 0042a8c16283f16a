"""manage.py patterns import <file.yaml> | import --builtins | export <file.yaml>"""

import sys
from pathlib import Path

import yaml
from django.core.management.base import BaseCommand, CommandError

from memsite.errors import ApplicationError
from patterns import selectors, services
from patterns.schemas import PatternDefinitionIn

BUILTINS = Path(__file__).resolve().parents[2] / "builtin_patterns.yaml"
SYSTEM = services.Editor(label="system:patterns-command", may_edit=True)


class Command(BaseCommand):
    help = "Import pattern definitions from a YAML file (validated in full first), or export them to one."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["import", "export"])
        parser.add_argument("file", nargs="?", help="a YAML file; '-' for standard input/output")
        parser.add_argument("--builtins", action="store_true", help="import: the definitions that ship with memsite")
        parser.add_argument("--keep-existing", action="store_true", help="import: leave definitions that exist alone")

    def handle(self, *args, action: str, file: str | None, builtins: bool, keep_existing: bool, **options):
        if action == "export":
            return self._export(file or "-")
        if not file and not builtins:
            raise CommandError("import needs a file, or --builtins")
        source = BUILTINS if builtins else file
        try:
            document = yaml.safe_load(sys.stdin if source == "-" else Path(source).read_text())
        except (OSError, yaml.YAMLError) as error:
            raise CommandError(f"cannot read {source}: {error}") from error
        entries = document.get("patterns") if isinstance(document, dict) else None
        try:
            result = services.definitions_import(entries=entries, editor=SYSTEM, replace=not keep_existing)
        except ApplicationError as error:
            raise CommandError(f"{source}: {error.detail} (nothing was imported)") from error
        for label, ids in (("created", result.created), ("updated", result.updated), ("unchanged", result.unchanged)):
            if ids:
                self.stdout.write(f"{label}: {', '.join(ids)}")
        self.stdout.write(
            f"{len(result.created)} created, {len(result.updated)} updated, {len(result.unchanged)} unchanged"
        )

    def _export(self, file: str) -> None:
        fields = set(PatternDefinitionIn.model_fields)
        entries = [d.model_dump(mode="json", include=fields, exclude_none=True) for d in selectors.definition_list()]
        text = yaml.safe_dump({"patterns": entries}, sort_keys=False, allow_unicode=True)
        if file == "-":
            self.stdout.write(text)
        else:
            Path(file).write_text(text)
            self.stdout.write(f"{len(entries)} definitions written to {file}")
