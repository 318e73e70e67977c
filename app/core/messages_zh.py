"""The Chinese of every error text (app/core/messages.py says how they are used).

``TITLES``: by problem ``code``. ``DETAILS`` (in messages_zh_details.py): by the English text
as the raise site writes it, ``{}`` where it puts a value (literal braces doubled); the Chinese
names each value by its place, ``{0}``, ``{1}``, …, and ``{n:msg}`` for a value that is itself
a message (found in ``DETAILS`` or in ``PARTS``, the texts that are only ever inside another).
A test reads the source (tests/core/test_error_language.py): a code without a title, or an
English text without an entry, fails it. Values are written as the raise site gave them
(names, counts, codes such as ``closed``: clients find those in ``GET /labels``)."""

from __future__ import annotations

from typing import Final

TITLES: Final[dict[str, str]] = {
    "account_cancelled": "账号已注销",
    "already_checked_in": "已向该社区申请报到",
    "already_paired": "该单位已与此社区结对",
    "bad_request": "请求有误",
    "conflict": "操作冲突",
    "conflict_retry": "与同时进行的请求冲突",
    "database_unavailable": "服务暂不可用",
    "delivery_not_parked": "只能重试已暂停的推送",
    "error": "请求出错",
    "extension_pending": "已有待审批的延期申请",
    "forbidden": "无权操作",
    "idempotency_key_reused": "Idempotency-Key 已被使用",
    "in_use": "仍在使用中",
    "internal_error": "服务器内部错误",
    "invalid_cursor": "分页游标无效",
    "invalid_transition": "当前状态不允许此操作",
    "last_administrator": "唯一的管理员",
    "method_not_allowed": "不支持该请求方法",
    "monthly_limit_reached": "已达每月兑换上限",
    "name_taken": "名称已被占用",
    "no_override": "该日没有管理员设置",
    "no_pending_extension": "没有待审批的延期申请",
    "not_acceptable": "无法提供所要求的格式",
    "not_enough_points": "积分不足",
    "not_found": "未找到",
    "out_of_stock": "已兑完",
    "payload_too_large": "内容过大",
    "photo_rejected": "照片未被接受",
    "precondition_failed": "内容已被修改",
    "rate_limited": "请求过于频繁",
    "reward_unavailable": "该商品暂不可兑换",
    "unauthorized": "未登录或登录已失效",
    "unsupported_media_type": "不支持的内容类型",
    "validation_error": "输入有误",
    "webhook_target_not_allowed": "不允许向该地址推送",
}

# Texts that are only ever part of another message (its ``{n:msg}``), looked up only there: a
# template such as "{} this report" would otherwise take a whole message for its value.
PARTS: Final[dict[str, str]] = {
    # What a role may not do ("only community_staff may accept this report").
    "{} this report": "对此上报执行 {0}",
    "{} this job": "对此任务执行 {0}",
    # What whistling finds wrong with a unit ("unit … is …"), joined with " and ".
    "not paired with this community for {}": "未与本社区就 {0} 类别结对",
    "outside your region": "不在您的辖区内",
    "not paired with this community for {} and outside your region": (
        "未与本社区就 {0} 类别结对，且不在您的辖区内"
    ),
}

# What pydantic found wrong with a field, by its error type (with its context's values), for
# the detail of a 422; ``value_error`` also stands for a type not listed here.
PYDANTIC_REASONS: Final[dict[str, str]] = {
    "missing": "必须填写",
    "value_error": "取值不正确",
    "assertion_error": "取值不正确",
    "extra_forbidden": "不接受此字段",
    "json_invalid": "不是有效的 JSON",
    "json_type": "应为 JSON",
    "dict_type": "应为 JSON 对象",
    "model_type": "应为 JSON 对象",
    "model_attributes_type": "应为 JSON 对象",
    "list_type": "应为数组",
    "tuple_type": "应为数组",
    "set_type": "应为数组",
    "too_short": "至少 {min_length} 项",
    "too_long": "至多 {max_length} 项",
    "string_type": "应为文本",
    "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "至多 {max_length} 个字符",
    "string_pattern_mismatch": "格式不正确",
    "string_unicode": "应为有效的 UTF-8 文本",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "int_parsing_size": "数值超出范围",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "finite_number": "应为有限的数字",
    "decimal_type": "应为数字",
    "decimal_parsing": "应为数字",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}",
    "multiple_of": "应为 {multiple_of} 的倍数",
    "enum": "应为以下之一：{expected}",
    "literal_error": "应为以下之一：{expected}",
    "uuid_type": "应为 UUID",
    "uuid_parsing": "应为 UUID",
    "uuid_version": "UUID 版本不正确",
    "date_type": "应为日期（YYYY-MM-DD）",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_inexact": "应为日期（YYYY-MM-DD），不含时刻",
    "datetime_type": "应为带时区的时间（RFC 3339）",
    "datetime_parsing": "应为带时区的时间（RFC 3339）",
    "datetime_from_date_parsing": "应为带时区的时间（RFC 3339）",
    "datetime_object_invalid": "应为带时区的时间（RFC 3339）",
    "timezone_aware": "应带时区（RFC 3339）",
    "timezone_naive": "不应带时区",
    "url_type": "应为网址",
    "url_parsing": "应为有效的网址",
    "url_syntax_violation": "应为有效的网址",
    "url_too_long": "网址过长",
    "url_scheme": "网址协议不被接受",
    "union_tag_invalid": "类型不正确",
    "union_tag_not_found": "缺少类型字段",
    "bytes_type": "应为文件或文本",
    "bytes_too_long": "内容过长",
    "bytes_too_short": "内容过短",
    "is_instance_of": "类型不正确",
    "value_error_missing": "必须填写",
}
