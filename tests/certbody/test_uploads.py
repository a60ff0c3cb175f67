"""Upload validation, storage and serving (certbody.uploads): type by extension and content,
size, number of files, generated names, downloads as attachments."""

import hashlib
from types import SimpleNamespace

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from certbody import uploads
from certbody.lifecycle import RuleViolation
from tests.files import office_file

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


DOCX = office_file("word/document.xml")
XLSX = office_file("xl/workbook.xml")


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("营业执照.pdf", PDF, "application/pdf"),
        ("组织机构图.PNG", PNG, "image/png"),
        ("网点照片.jpg", JPEG, "image/jpeg"),
        ("网点照片.jpeg", JPEG, "image/jpeg"),
        ("服务手册.docx", DOCX, uploads.TYPES["docx"]),
        ("网点清单.xlsx", XLSX, uploads.TYPES["xlsx"]),
    ],
)
def test_allowed_types_pass_with_the_type_derived_from_the_extension(name, content, content_type):
    checked = uploads.check_file(upload(name, content, content_type="text/html"))
    assert checked.content_type == content_type  # never the browser's claim
    assert checked.content == content and checked.size == len(content)
    assert checked.sha256 == hashlib.sha256(content).hexdigest()
    assert checked.original_name == name


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("营业执照.pdf", PNG, "内容与其 .pdf 扩展名不符"),
        ("照片.png", JPEG, "内容与其 .png 扩展名不符"),
        ("照片.jpg", PDF, "内容与其 .jpg 扩展名不符"),
        ("手册.docx", b"PK\x03\x04not really a zip", "内容与其 .docx 扩展名不符"),
        ("手册.docx", XLSX, "内容与其 .docx 扩展名不符"),
        ("清单.xlsx", DOCX, "内容与其 .xlsx 扩展名不符"),
        ("page.html", b"<script>alert(1)</script>", "类型不允许"),
        ("setup.exe", b"MZ\x90\x00", "类型不允许"),
        ("伪装.pdf.exe", PDF, "类型不允许"),
        ("没有扩展名", PDF, "类型不允许"),
        ("空文件.pdf", b"", "空文件"),
    ],
)
def test_bad_files_are_refused_naming_the_file(name, content, message):
    with pytest.raises(RuleViolation, match=message) as refused:
        uploads.check_file(upload(name, content))
    assert name in str(refused.value)


def test_a_file_over_ten_megabytes_is_refused():
    big = upload("扫描件.pdf", PDF + b"0" * uploads.MAX_BYTES)
    with pytest.raises(RuleViolation, match="超过 10 MB"):
        uploads.check_file(big)


def test_exactly_ten_megabytes_is_allowed():
    content = PDF + b"0" * (uploads.MAX_BYTES - len(PDF))
    assert uploads.check_file(upload("扫描件.pdf", content)).size == uploads.MAX_BYTES


class LyingUpload:
    """An upload that claims to be small but is not (the size is not trusted)."""

    name = "小文件.pdf"
    size = 10

    def chunks(self):
        yield PDF
        for _ in range(11):
            yield b"0" * (1024 * 1024)


def test_the_claimed_size_is_not_trusted():
    with pytest.raises(RuleViolation, match="超过 10 MB"):
        uploads.check_file(LyingUpload())


def test_path_components_of_the_name_are_dropped():
    assert uploads.check_file(upload("..\\..\\C:\\证照\\营业执照.pdf", PDF)).original_name == (
        "营业执照.pdf"
    )
    assert uploads.original_name("../../etc/passwd.pdf") == "passwd.pdf"
    assert uploads.original_name("") == "attachment"


def test_at_most_ten_files_all_or_nothing():
    assert len(uploads.check_files([upload(f"{i}.pdf", PDF) for i in range(10)])) == 10
    with pytest.raises(RuleViolation, match="最多上传 10 个文件"):
        uploads.check_files([upload(f"{i}.pdf", PDF) for i in range(11)])
    with pytest.raises(RuleViolation, match="最多上传 10 个附件"):
        uploads.check_files(
            [upload(f"{i}.pdf", PDF) for i in range(11)], too_many="每次最多上传 10 个附件"
        )
    with pytest.raises(RuleViolation, match="坏.png"):
        uploads.check_files([upload("好.pdf", PDF), upload("坏.png", PDF)])
    assert uploads.check_files([None, upload("好.pdf", PDF)])[0].original_name == "好.pdf"


@pytest.mark.django_db  # closing a response sends request_finished (closes old connections)
def test_stored_files_get_generated_names_and_are_served_as_attachments():
    from django.db.models import FileField
    from django.db.models.fields.files import FieldFile

    checked = uploads.check_file(upload("<script>.pdf", PDF))
    field = FileField(upload_to="tests")
    field.set_attributes_from_name("file")
    field_file = FieldFile(SimpleNamespace(), field, None)
    name = uploads.save(field_file, checked)
    assert name.startswith("tests/") and name.endswith(".pdf")
    assert "script" not in name and len(name.rsplit("/", 1)[1]) == 32 + 4
    assert default_storage.exists(name)

    response = uploads.download_response(
        field_file, content_type=checked.content_type, filename=checked.original_name
    )
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF
    # Not response.close(): outside a request it would send request_finished, which closes
    # the database connection under PostgreSQL; only the file needs closing.
    response.file_to_stream.close()

    uploads.remove_files(default_storage, [name, "tests/missing.pdf"])
    assert not default_storage.exists(name)


def test_media_root_is_not_under_the_static_files():
    from django.conf import settings

    media = str(settings.MEDIA_ROOT)
    assert not media.startswith(str(settings.STATIC_ROOT))
    assert not any(media.startswith(str(d)) for d in settings.STATICFILES_DIRS)
