"""Dataset readers returning `train.sample.Sample`, and the config factory that builds them."""

from train.datasets.base import SampleDataset
from train.datasets.build import READERS, build_dataset
from train.datasets.camvid import CamVidDataset
from train.datasets.kitti_object import KittiObjectDataset
from train.datasets.kitti_road import KittiRoadDataset
from train.datasets.labelme import LabelmeDataset
from train.datasets.mix import MixedDataset
from train.datasets.yolo_txt import YoloTxtDataset

__all__ = ["READERS", "build_dataset", "SampleDataset", "MixedDataset", "CamVidDataset", "KittiRoadDataset",
           "KittiObjectDataset", "YoloTxtDataset", "LabelmeDataset"]
