import torch

from gan_utils.metrics.matching import confusion, matched_accuracy


def test_permuted_codes_are_perfect() -> None:
    labels = torch.arange(10).repeat(5)
    codes = (labels * 3 + 1) % 10  # a permutation of the labels
    acc, mapping = matched_accuracy(codes, labels)
    assert acc == 1.0 and all(mapping[int(c)] == int(y) for c, y in zip(codes, labels, strict=True))


def test_hand_computed_best_matching() -> None:
    # code 0 holds labels (0, 0, 1), code 1 holds (1, 1, 0): best match 0->0, 1->1 gives 4 of 6
    codes = torch.tensor([0, 0, 0, 1, 1, 1])
    labels = torch.tensor([0, 0, 1, 1, 1, 0])
    acc, mapping = matched_accuracy(codes, labels)
    assert abs(acc - 4 / 6) < 1e-12 and mapping == {0: 0, 1: 1}
    assert confusion(codes, labels, 2, 2).tolist() == [[2, 1], [1, 2]]


def test_one_to_one_not_greedy() -> None:
    # both codes are mostly label 0; one-to-one forces one of them to label 1
    codes = torch.tensor([0, 0, 0, 1, 1, 1])
    labels = torch.tensor([0, 0, 1, 0, 0, 1])
    acc, _ = matched_accuracy(codes, labels)
    assert abs(acc - 3 / 6) < 1e-12
