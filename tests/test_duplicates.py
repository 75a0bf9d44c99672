"""Duplicate hints: similarity keys, the in-memory index, and loading candidates from the database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert

from bot.duplicates import (
    DEFAULT_CUTOFF,
    SOLUTION_CHARS,
    SOLUTION_WORDS,
    TITLE_WORDS,
    Candidate,
    DuplicateIndex,
    Hint,
    similarity_key,
)
from storage.duplicates import candidates_since
from storage.engine import Database
from storage.tables import metadata

# (earlier title, earlier solution, new title, new solution): the same initiative written twice.
NEAR = [
    pytest.param(
        "Máy cắt vải tự động bằng cảm biến",
        "Gắn cảm biến quang và bàn trượt để cắt vải đúng đường may",
        "may cat vai tu dong dung cam bien quang",
        None,
        id="no-diacritics-title-only",
    ),
    pytest.param(
        "Máy cắt vải tự động bằng cảm biến",
        "Gắn cảm biến quang và bàn trượt để cắt vải đúng đường may",
        "Máy cắt vải tự động",
        "Lắp cảm biến quang cho bàn cắt, tự dừng khi lệch đường may",
        id="shorter-title-other-solution",
    ),
    pytest.param(
        "Lắp biến tần cho máy nén khí để tiết kiệm điện",
        "Thay khởi động sao – tam giác bằng biến tần, chạy theo áp suất đường ống",
        "Tiết kiệm điện năng máy nén khí bằng biến tần",
        "Lắp biến tần điều khiển tốc độ động cơ máy nén theo áp suất",
        id="reworded-inverter",
    ),
    pytest.param(
        "Ứng dụng phần mềm quản lý văn bản điện tử",
        "Dùng phần mềm để quản lý công văn đi, đến và ký số",
        "Phần mềm quản lý công văn đi đến",
        "Xây dựng phần mềm theo dõi văn bản đến, văn bản đi và ký số",
        id="office-software",
    ),
    pytest.param(
        "Sử dụng mã QR để tra cứu hồ sơ hành chính",
        "In mã QR trên giấy biên nhận, người dân quét để xem tình trạng hồ sơ",
        "Tra cứu tình trạng hồ sơ bằng mã QR cho người dân",
        "Mỗi giấy biên nhận có mã QR dẫn tới trang tra cứu",
        id="public-service-qr",
    ),
    pytest.param(
        "Tổ chức sinh hoạt công đoàn trực tuyến qua nhóm Zalo",
        "Lập nhóm Zalo cho từng tổ công đoàn, sinh hoạt định kỳ hằng tháng",
        "Đổi mới hình thức sinh hoạt công đoàn qua Zalo",
        "Sinh hoạt tổ công đoàn trực tuyến trên nhóm Zalo",
        id="union-zalo",
    ),
    pytest.param(
        "Thu hồi nước làm mát máy ép nhựa để tái sử dụng",
        "Lắp bể chứa và bơm tuần hoàn nước làm mát",
        "Tái sử dụng nước làm mát cho máy ép nhựa",
        "Bơm tuần hoàn nước làm mát qua bể chứa",
        id="cooling-water",
    ),
    pytest.param(
        "Buồng khử khuẩn tự động tại cổng nhà máy",
        "Lắp buồng phun sương khử khuẩn có cảm biến ở cổng ra vào",
        "Buồng phun khử khuẩn tự động ở cổng ra vào công ty",
        "Phun sương dung dịch khử khuẩn khi có người đi qua",
        id="pandemic-booth",
    ),
    pytest.param(
        "Đồ gá hàn khung ghế bằng khí nén",
        "Gá kẹp khí nén giữ bốn chân ghế khi hàn",
        "ĐỒ GÁ KẸP KHÍ NÉN KHI HÀN KHUNG GHẾ",
        "Dùng xi lanh khí nén kẹp chân ghế cố định",
        id="upper-case-jig",
    ),
    pytest.param(
        "Băng tải đưa hàng từ chuyền may sang khu đóng gói",
        "Lắp băng tải con lăn nối cuối chuyền với bàn đóng gói",
        "Lap bang tai tu chuyen may den khu dong goi",
        "bang tai con lan noi cuoi chuyen",
        id="conveyor-no-diacritics",
    ),
    pytest.param(
        "Chấm công bằng nhận diện khuôn mặt",
        "Camera nhận diện khuôn mặt ghi giờ vào ra, thay thẻ giấy",
        "Ứng dụng camera nhận diện khuôn mặt để chấm công",
        "Thay máy chấm công thẻ giấy bằng camera",
        id="face-attendance",
    ),
    pytest.param(
        "Số hóa sổ giao ca bằng máy tính bảng",
        "Công nhân ghi tình trạng máy vào biểu mẫu trên máy tính bảng thay sổ giấy",
        "Sổ giao ca điện tử trên máy tính bảng",
        "Thay sổ giấy bằng biểu mẫu điện tử ghi tình trạng máy khi giao ca",
        id="shift-log",
    ),
]

# Different initiatives that share campaign words ("cải tiến", "công ty", "năng suất"…) or a
# technique ("tự động", "cảm biến", "khí nén", "biến tần").
UNRELATED = [
    pytest.param(
        "Cải tiến quy trình kiểm tra chất lượng sản phẩm may",
        "Thêm bước kiểm tra đường may trước khi đóng gói",
        "Cải tiến quy trình bàn giao ca sản xuất",
        "Dùng sổ giao ca điện tử ghi tình trạng máy",
        id="both-improve-a-process",
    ),
    pytest.param(
        "Nâng cao năng suất lao động tại phân xưởng may",
        "Sắp xếp lại chuyền may theo dòng chảy sản phẩm",
        "Nâng cao năng suất lao động bộ phận đóng gói",
        "Dùng băng tải và bàn đóng gói hai tầng",
        id="both-raise-productivity",
    ),
    pytest.param(
        "Cải tiến công tác quản lý kho vật tư tại công ty",
        "Dán mã vạch cho vật tư, xuất nhập kho bằng máy quét",
        "Cải tiến công tác đào tạo công nhân mới tại công ty",
        "Quay video hướng dẫn thao tác cho từng công đoạn",
        id="same-company-boilerplate",
    ),
    pytest.param(
        "Đổi mới công tác tuyên truyền công đoàn",
        "Làm bản tin công đoàn dạng video ngắn",
        "Tổ chức sinh hoạt công đoàn trực tuyến qua nhóm Zalo",
        "Lập nhóm Zalo cho từng tổ công đoàn",
        id="both-union-work",
    ),
    pytest.param(
        "Tiết kiệm chi phí điện chiếu sáng tại công ty",
        "Thay đèn huỳnh quang bằng đèn LED, lắp công tắc cảm biến",
        "Tiết kiệm chi phí văn phòng phẩm tại công ty",
        "In hai mặt, dùng văn bản điện tử thay giấy",
        id="both-save-costs",
    ),
    pytest.param(
        "Giải pháp tăng năng suất lao động trong công ty",
        "Khoán sản phẩm theo tổ",
        "Giải pháp nâng cao hiệu quả công tác công đoàn trong công ty",
        "Giao chỉ tiêu cho từng tổ công đoàn",
        id="generic-solutions",
    ),
    pytest.param(
        "Lắp biến tần cho máy nén khí để tiết kiệm điện",
        "Thay khởi động sao – tam giác bằng biến tần",
        "Lắp biến tần cho bơm nước tuần hoàn",
        "Điều chỉnh tốc độ bơm theo nhiệt độ nước",
        id="inverter-on-another-machine",
    ),
    pytest.param(
        "Máy cắt vải tự động bằng cảm biến",
        "Gắn cảm biến quang và bàn trượt",
        "Máy rửa tay tự động dùng cảm biến hồng ngoại",
        "Lắp cảm biến hồng ngoại cho vòi nước và bình xà phòng",
        id="automatic-sensor-machines",
    ),
    pytest.param(
        "Ứng dụng phần mềm quản lý kho vật tư",
        "Quét mã vạch khi xuất nhập kho",
        "Ứng dụng phần mềm quản lý văn bản điện tử",
        "Dùng phần mềm để quản lý công văn đi, đến và ký số",
        id="management-software",
    ),
    pytest.param(
        "Sáng kiến cải tiến nâng cao năng suất lao động tại công ty",
        None,
        "Sáng kiến cải tiến nâng cao hiệu quả sản xuất của công ty",
        None,
        id="only-boilerplate",
    ),
    pytest.param(
        "Đồ gá hàn khung ghế bằng khí nén",
        "Gá kẹp khí nén giữ bốn chân ghế khi hàn",
        "Xe đẩy hàng bằng khí nén cho kho",
        "Xe nâng tay dùng xi lanh khí nén",
        id="both-pneumatic",
    ),
    pytest.param(
        "Tủ điện điều khiển bơm tự động theo mực nước",
        "Dùng phao điện và rơ le thời gian",
        "Máy may tự động cắt chỉ",
        "Lắp bộ cắt chỉ tự động cho máy may một kim",
        id="both-automatic",
    ),
]

BACKGROUND = [
    ("Khay đựng linh kiện chống rơi", "Khay nhựa có vách ngăn và nắp lật"),
    ("Bàn gá hàn khung xe máy", "Gá kẹp nhanh giữ khung khi hàn"),
    ("Thùng rác phân loại tại nguồn trong văn phòng", "Ba ngăn màu khác nhau, dán nhãn"),
    ("Khuôn ép nhựa nắp chai nhiều lòng khuôn", "Tăng từ 4 lên 8 lòng khuôn"),
]


def candidate(initiative_id: int, title: str, solution: str | None, status: str = "approved") -> Candidate:
    """A candidate with a code derived from its id."""
    return Candidate(initiative_id, f"SK-2026-{initiative_id:06d}", status, similarity_key(title, solution))


def background_index() -> DuplicateIndex:
    """An index holding a few unrelated initiatives of the campaign."""
    index = DuplicateIndex()
    index.extend(candidate(100 + n, title, solution) for n, (title, solution) in enumerate(BACKGROUND))
    return index


@pytest.mark.parametrize(("old_title", "old_solution", "new_title", "new_solution"), NEAR)
def test_near_duplicate_is_hinted_with_code_status_and_score(
    old_title: str, old_solution: str | None, new_title: str, new_solution: str | None
) -> None:
    index = background_index()
    index.add(candidate(7, old_title, old_solution, status="in_review"))

    hints = index.hints(similarity_key(new_title, new_solution), exclude_id=None)

    assert [(h.initiative_id, h.code, h.status) for h in hints] == [(7, "SK-2026-000007", "in_review")]
    assert DEFAULT_CUTOFF <= hints[0].score <= 100


@pytest.mark.parametrize(("old_title", "old_solution", "new_title", "new_solution"), UNRELATED)
def test_unrelated_initiative_sharing_common_words_is_not_hinted(
    old_title: str, old_solution: str | None, new_title: str, new_solution: str | None
) -> None:
    index = background_index()
    index.add(candidate(7, old_title, old_solution))

    assert index.hints(similarity_key(new_title, new_solution), exclude_id=None) == []


def test_the_example_of_the_issue_matches_strongly() -> None:
    index = DuplicateIndex()
    index.add(candidate(1, "Máy cắt vải tự động bằng cảm biến", None))

    (hint,) = index.hints(similarity_key("may cat vai tu dong dung cam bien quang", None), exclude_id=None)

    assert hint.score >= DEFAULT_CUTOFF + 10


def test_key_folds_diacritics_case_and_punctuation() -> None:
    assert similarity_key("MÁY CẮT VẢI – Tự Động!", "Đèn báo; cảm-biến") == similarity_key(
        "may cat vai tu dong", "den bao cam bien"
    )
    assert similarity_key("Đồ gá", None) == "do ga"


def test_key_drops_campaign_boilerplate() -> None:
    assert similarity_key("Sáng kiến cải tiến nâng cao năng suất lao động tại công ty", None) == ""
    assert similarity_key("Cải tiến máy nén khí tại công ty", None) == "khi may nen"


def test_only_the_start_of_a_long_solution_counts() -> None:
    start = "Gắn cảm biến quang và bàn trượt để cắt vải đúng đường may. "
    long_solution = start + "Sau đó hiệu chỉnh lại toàn bộ chuyền, đo đạc, ghi chép số liệu. " * 40

    key = similarity_key("Máy cắt vải tự động", long_solution)

    assert key == similarity_key("Máy cắt vải tự động", long_solution[:SOLUTION_CHARS] + " thêm chữ khác")
    assert len(key.split()) <= TITLE_WORDS + SOLUTION_WORDS


def test_the_initiative_itself_is_excluded() -> None:
    index = background_index()
    index.add(candidate(7, "Máy cắt vải tự động bằng cảm biến", None))
    index.add(candidate(8, "Máy cắt vải tự động dùng cảm biến quang", None))

    hints = index.hints(similarity_key("Máy cắt vải tự động dùng cảm biến quang", None), exclude_id=8)

    assert [h.initiative_id for h in hints] == [7]


def test_at_most_three_hints_best_first_and_ties_by_age() -> None:
    index = DuplicateIndex()
    title = "Lắp biến tần cho máy nén khí"
    index.extend(
        [
            candidate(1, title + " và quạt làm mát", None),
            candidate(2, title, None),
            candidate(3, title + " trạm số hai", "chạy theo áp suất đường ống"),
            candidate(4, title, None),
            candidate(5, "Lắp biến tần cho máy nén khí trục vít", None),
        ]
    )

    hints = index.hints(similarity_key(title, None), exclude_id=None)
    more = index.hints(similarity_key(title, None), exclude_id=None, limit=10)

    assert len(hints) == 3
    assert hints == more[:3]
    assert [h.score for h in more] == sorted((h.score for h in more), reverse=True)
    assert [h.initiative_id for h in hints[:2]] == [2, 4]
    assert hints[0].score == 100


def test_cutoff_and_limit_are_the_callers_choice() -> None:
    index = background_index()
    index.add(candidate(7, "Máy cắt vải tự động bằng cảm biến", "Gắn cảm biến quang và bàn trượt"))
    key = similarity_key("Máy rửa tay tự động dùng cảm biến hồng ngoại", None)

    assert index.hints(key, exclude_id=None) == []
    assert [h.initiative_id for h in index.hints(key, exclude_id=None, cutoff=60)] == [7]
    assert index.hints(key, exclude_id=None, cutoff=50, limit=0) == []
    assert index.hints("", exclude_id=None) == []


def test_adding_an_id_again_replaces_it_and_last_id_tracks_the_newest() -> None:
    index = DuplicateIndex()
    assert index.last_id == 0
    index.extend([candidate(3, "Máy cắt vải tự động", None, status="submitted"), candidate(9, "Khay đựng", None)])
    index.add(candidate(3, "Máy cắt vải tự động", None, status="approved"))

    hints = index.hints(similarity_key("Máy cắt vải tự động", None), exclude_id=None)

    assert len(index) == 2
    assert index.last_id == 9
    assert hints == [Hint(3, "SK-2026-000003", "approved", 100)]


NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


async def test_candidates_since_reads_non_draft_initiatives_of_the_campaign_in_id_order(db_url: str) -> None:
    database = Database(db_url)
    users, initiatives = metadata.tables["app_user"], metadata.tables["initiative"]
    common = {"author_percent": 100, "created_at": NOW, "updated_at": NOW, "version": 0, "editing": False}
    long_solution = "Gắn cảm biến quang. " * 100
    rows = [
        ("c2026", "submitted", "SK-2026-000001", "Máy cắt vải tự động", long_solution),
        ("c2026", "draft", None, "Bản nháp", "chưa gửi"),
        ("c2025", "approved", "SK-2025-000009", "Chiến dịch khác", None),
        ("c2026", "approved", "SK-2026-000002", "Khay đựng linh kiện", None),
        ("c2026", "rejected", "SK-2026-000003", "Xe đẩy vải cuộn", "Càng nâng thủy lực"),
    ]
    async with database.begin() as conn:
        result = await conn.execute(
            insert(users).values(
                channel="telegram",
                external_id="1001",
                locale="vi",
                reg_step="done",
                editing_profile=False,
                deleted=False,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        author = result.inserted_primary_key[0]
        ids = []
        for campaign, status, code, title, solution in rows:
            result = await conn.execute(
                insert(initiatives).values(
                    campaign_key=campaign,
                    author_id=author,
                    status=status,
                    step="done" if status != "draft" else "title",
                    code=code,
                    title=title,
                    solution=solution,
                    **common,
                )
            )
            ids.append(result.inserted_primary_key[0])

    async with database.begin() as conn:
        everything = await candidates_since(conn, "c2026", 0, 100)
        after_first = await candidates_since(conn, "c2026", ids[0], 100)
        first_two = await candidates_since(conn, "c2026", 0, 2)
        none_left = await candidates_since(conn, "c2026", ids[4], 100)
    await database.dispose()

    assert [(row[0], row[1], row[2], row[3]) for row in everything] == [
        (ids[0], "SK-2026-000001", "submitted", "Máy cắt vải tự động"),
        (ids[3], "SK-2026-000002", "approved", "Khay đựng linh kiện"),
        (ids[4], "SK-2026-000003", "rejected", "Xe đẩy vải cuộn"),
    ]
    assert everything[0][4] == long_solution[:SOLUTION_CHARS]
    assert everything[1][4] is None
    assert everything[2][4] == "Càng nâng thủy lực"
    assert [row[0] for row in after_first] == [ids[3], ids[4]]
    assert first_two == everything[:2]
    assert none_left == []
